import { isJobwireError, JobwireError } from '../errors.js';
import type { JobEvent } from '../job.js';
import { pause, reconnectDelay, retryAfterMs } from './backoff.js';
import { isTransient } from './http-error.js';
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
 * 4xx other than 408 and 429 throws its `JobwireError`. A 5xx, 408, 429, a network failure or a
 * stream cut short calls `onError` and reconnects after {@link reconnectDelay} (or the answer's
 * `Retry-After`, when longer; at most `maxDelayMs`). A stream the server ends cleanly while the
 * subscription is not finished (the server knew more than the client: a job it had already seen
 * end) is reconnected at once and quietly; a second one in a row without an event between is a
 * failure. Connections the server opens restart the backoff, but follow one another
 * `initialDelayMs` apart at least. An abort of `signal` ends it quietly.
 */
export async function* subscribe<E extends JobEvent>(transport: Transport, start: () => Subscription<E>, options: SubscribeOptions, signal: AbortSignal): AsyncGenerator<E, void> {
  const subscription = start(); // here, not at the call: a bad argument rejects the first next(), as every other failure does
  const { reconnect = {} } = options;
  const { initialDelayMs = 500, maxDelayMs = 15_000 } = reconnect;
  /** Failed tries since the server last opened a stream. */
  let failures = 0;
  let serverRetryMs: number | undefined;
  /** True once a clean end was taken as quiet, until the next event: another is a failure. */
  let quietEndUsed = false;
  for (;;) {
    const next = subscription.connection();
    if (!next) return;
    const startedAt = Date.now();
    let response: Response | undefined;
    let lost: JobwireError | undefined;
    /** What the answer's `Retry-After` asks for. */
    let retryAfter = 0;
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
      lost = await transport.error(response, next.url.pathname);
      if (signal.aborted) return;
      if (!isTransient(response.status)) throw lost; // the request is wrong (404, 403, 400): asking again will not help
      retryAfter = Math.min(maxDelayMs, retryAfterMs(response.headers.get('retry-after')) ?? 0);
    } else if (response) {
      if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) {
        void response.body?.cancel().catch(() => undefined); // not ours to read: let the connection go
        throw new JobwireError('INVALID_REQUEST', `Expected an event stream from ${next.url.pathname}, got ${response.headers.get('content-type') ?? 'no content type'}`);
      }
      failures = 0;
      options.onOpen?.();
      let ended = false;
      let cause: unknown;
      try {
        for await (const event of readJobEvents(response.body, (ms) => (serverRetryMs = ms), () => (ended = true))) {
          const accepted = subscription.accept(event);
          if (!accepted) continue;
          quietEndUsed = false;
          yield accepted;
          if (subscription.finished()) return;
        }
      } catch (error) {
        // The stream broke mid-read (the network, a proxy, a server going away): reconnect below.
        cause = error;
      }
      if (signal.aborted) return;
      if (ended && !quietEndUsed) {
        // Ended by the server, not cut: ask again at once (a 204 ends it); only a repeat is a failure.
        quietEndUsed = true;
        continue;
      }
      lost = new JobwireError('UNAVAILABLE', `The event stream of ${next.url.pathname} ${ended ? 'was closed before its end' : 'was cut short'}`, { cause });
    }
    if (signal.aborted) return;
    options.onError?.(lost as JobwireError);
    // A connection the server opened restarts the backoff: keep such connections apart, never spin.
    const floor = response?.ok ? initialDelayMs - (Date.now() - startedAt) : 0;
    await pause(Math.max(reconnectDelay(failures++, serverRetryMs, reconnect), retryAfter, floor), signal);
    if (signal.aborted) return;
  }
}
