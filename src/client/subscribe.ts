import { isJobwireError, JobwireError } from '../errors.js';
import type { JobEvent } from '../job.js';
import { pause, reconnectDelay } from './backoff.js';
import { errorOf } from './http-error.js';
import type { ConnectionCallbacks, ReconnectOptions } from './options.js';
import { readJobEvents } from './sse-events.js';
import type { Transport } from './transport.js';

/** What one reconnecting stream follows, and how its events are kept in order. */
export interface Subscription<E extends JobEvent> {
  /** The URL and `Last-Event-ID` of the next connection; `undefined` when there is nothing left to follow. */
  connection(): { url: URL; lastEventId?: string | undefined } | undefined;
  /** The event to yield, or `undefined` to drop it (already seen, or not wanted); records it as seen. */
  accept(event: JobEvent): E | undefined;
  /** True once nothing more will come (every job followed has ended). */
  finished(): boolean;
}

/** How a subscription reconnects, and what it tells of its connections. */
export interface SubscribeOptions extends ConnectionCallbacks {
  reconnect?: ReconnectOptions | undefined;
}

/**
 * Read the events of the subscription `start` makes across connections. A 204 stops for good; a
 * 4xx throws its `JobwireError`; a 5xx, a network failure or a stream that ends while the
 * subscription is not finished calls `onError` and reconnects after {@link reconnectDelay}, as the
 * subscription says. An abort of `signal` ends it quietly.
 */
export async function* subscribe<E extends JobEvent>(transport: Transport, start: () => Subscription<E>, options: SubscribeOptions, signal: AbortSignal): AsyncGenerator<E, void> {
  const subscription = start(); // here, not at the call: a bad argument rejects the first next(), as every other failure does
  let failures = 0;
  let serverRetryMs: number | undefined;
  for (;;) {
    const next = subscription.connection();
    if (!next) return;
    let delivered = false;
    let response: Response | undefined;
    let lost: JobwireError | undefined;
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (next.lastEventId) headers['last-event-id'] = next.lastEventId;
      response = await transport.send(next.url, { headers, signal });
    } catch (error) {
      if (signal.aborted) return;
      if (!isJobwireError(error) || error.code !== 'UNAVAILABLE') throw error; // the client's own headers() failed
      lost = error;
    }
    if (response?.status === 204) return; // the server says there is nothing more: never ask again
    if (response && !response.ok) {
      lost = await errorOf(response);
      if (signal.aborted) return;
      if (response.status < 500) throw lost; // the request is wrong (404, 403, 400): asking again will not help
    } else if (response) {
      if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
        void response.body?.cancel().catch(() => undefined); // not ours to read: let the connection go
        throw new JobwireError('INVALID_REQUEST', `Expected an event stream from ${next.url.pathname}, got ${response.headers.get('content-type') ?? 'no content type'}`);
      }
      options.onOpen?.();
      try {
        for await (const event of readJobEvents(response.body, (ms) => (serverRetryMs = ms))) {
          const accepted = subscription.accept(event);
          if (!accepted) continue;
          delivered = true;
          yield accepted;
          if (subscription.finished()) return;
        }
        lost = new JobwireError('UNAVAILABLE', `The event stream of ${next.url.pathname} was cut short`);
      } catch (error) {
        // The stream broke mid-read (the network, a proxy, a server going away): reconnect below.
        lost = new JobwireError('UNAVAILABLE', `The event stream of ${next.url.pathname} was cut short`, { cause: error });
      }
    }
    if (signal.aborted) return;
    if (lost) options.onError?.(lost);
    failures = delivered ? 0 : failures + 1;
    await pause(reconnectDelay(failures, serverRetryMs, options.reconnect), signal);
    if (signal.aborted) return;
  }
}
