import type { ServerResponse } from 'node:http';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { frameBytes, SSE_HEADERS } from './encode.js';
import { notFoundBodyOf, streamLogFields, type SSEStream } from './response.js';

/** Options for {@link writeSSE}. */
export interface WriteSSEOptions {
  /** Where a failed write is reported (a client vanishing mid-write is normal, logged at debug). */
  logger?: Logger;
  /** More response headers (CORS, cookies…), sent with the SSE ones. */
  headers?: Record<string, string | string[]>;
}

/** The host's headers plus the SSE ones (which win), names lower-cased so none is sent twice. */
function withSSEHeaders(extra: Record<string, string | string[]>): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(extra)) headers[name.toLowerCase()] = value;
  for (const [name, value] of Object.entries(SSE_HEADERS)) headers[name.toLowerCase()] = value;
  return headers;
}

/** Resolve when the response can take more data, or when it closed. True when it can. */
export function drained(res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    const onDrain = (): void => finish(true);
    const onClose = (): void => finish(false);
    const finish = (ok: boolean): void => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(ok);
    };
    res.on('drain', onDrain);
    res.on('close', onClose);
  });
}

/**
 * Write an event stream (`openJobStream`'s or `openJobsStream`'s) to a node `ServerResponse`
 * (node:http, Express, Fastify's `reply.raw`).
 * Sends the SSE headers and flushes them, waits for `drain` when the socket is full (memory stays
 * bounded for slow clients), and when the client disconnects (`res` 'close') closes the stream at
 * once, freeing its listeners and timers. Resolves when the response has ended; never rejects
 * because a client went away.
 *
 * @example
 * ```ts
 * app.get('/jobs/:id/events', async (req, res) => {
 *   await writeSSE(res, await openJobStream(tracker, req.params.id, { lastEventId: req.get('last-event-id') }));
 * });
 * ```
 */
export async function writeSSE(res: ServerResponse, stream: SSEStream, options: WriteSSEOptions = {}): Promise<void> {
  if (stream.status !== 200) {
    if (stream.status === 404) res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' }).end(notFoundBodyOf(stream));
    else res.writeHead(204).end();
    return;
  }
  const onClose = (): void => stream.close();
  // A write to a vanished client emits 'error' on the response; without a listener that would crash the process.
  const onError = (error: Error): void => {
    options.logger?.debug({ ...streamLogFields(stream), err: error }, `jobwire: SSE client went away: ${messageOf(error)}`);
    stream.close();
  };
  res.on('close', onClose);
  res.on('error', onError);
  try {
    res.writeHead(200, options.headers ? withSSEHeaders(options.headers) : SSE_HEADERS);
    res.flushHeaders();
    for await (const frame of stream) {
      if (res.destroyed || res.writableEnded) break;
      if (!res.write(frameBytes(frame)) && !(await drained(res))) break;
    }
  } catch (error) {
    options.logger?.error({ ...streamLogFields(stream), err: error }, `jobwire: SSE stream failed: ${messageOf(error)}`);
  } finally {
    stream.close();
    res.off('close', onClose);
    if (!res.writableEnded && !res.destroyed) res.end();
    // Keep swallowing late socket errors after we are done with the response.
    res.off('error', onError);
    res.on('error', () => {});
  }
}
