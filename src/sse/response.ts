import type { JobStream } from './job-stream.js';
import type { JobsStream } from './jobs-stream.js';
import { frameBytes, SSE_HEADERS } from './encode.js';

/** What the SSE writers send: the stream of one job, or of several jobs. */
export type SSEStream = JobStream | JobsStream;

/** The event stream behind each SSE Response, so a node bridge can write it natively. */
const sources = new WeakMap<Response, SSEStream>();

/** The event stream a Response from {@link toSSEResponse} carries, if it is one (body not yet read). */
export function jobStreamOf(response: Response): SSEStream | undefined {
  return response.bodyUsed ? undefined : sources.get(response);
}

/** The message of every "no such job" answer: the same whether the job never existed or is not the caller's. */
export function unknownJobMessage(jobId: string): string {
  return `Unknown job ${jobId}`;
}

/** The JSON body of an error response: `{ error: { code, message } }`. */
export function notFoundBody(jobId: string): string {
  return JSON.stringify({ error: { code: 'JOB_NOT_FOUND', message: unknownJobMessage(jobId) } });
}

/**
 * The JSON body of a stream's 404: the unknown job's; a several-jobs stream also names it in
 * `details: { jobId }`, since the client asked for more than one.
 */
export function notFoundBodyOf(stream: SSEStream): string {
  if ('jobId' in stream) return notFoundBody(stream.jobId);
  const jobId = stream.missingJobId ?? '';
  return JSON.stringify({ error: { code: 'JOB_NOT_FOUND', message: unknownJobMessage(jobId), details: { jobId } } });
}

/** What a log line says about a stream: its job, or its jobs. */
export function streamLogFields(stream: SSEStream): { jobId: string } | { jobIds: readonly string[] } {
  return 'jobId' in stream ? { jobId: stream.jobId } : { jobIds: stream.jobIds };
}

/**
 * A web `Response` for an event stream (`openJobStream`'s or `openJobsStream`'s), for fetch-style
 * runtimes (Hono, Bun, Deno, Next). 200 streams the frames; 204 tells EventSource to stop; 404
 * carries a JSON error. When the client goes away the runtime cancels the body, which closes the
 * stream at once.
 *
 * @example
 * ```ts
 * app.get('/jobs/:id/events', async (c) =>
 *   toSSEResponse(await openJobStream(tracker, c.req.param('id'), { lastEventId: c.req.header('last-event-id'), signal: c.req.raw.signal })));
 * ```
 */
export function toSSEResponse(stream: SSEStream): Response {
  if (stream.status === 404) {
    return new Response(notFoundBodyOf(stream), { status: 404, headers: { 'Content-Type': 'application/json; charset=utf-8' } });
  }
  if (stream.status === 204) return new Response(null, { status: 204 });
  const frames = stream[Symbol.asyncIterator]();
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        try {
          const next = await frames.next();
          if (next.done) controller.close();
          else controller.enqueue(frameBytes(next.value));
        } catch (error) {
          stream.close();
          controller.error(error);
        }
      },
      cancel() {
        stream.close();
        void frames.return?.();
      },
    },
    // Pull one frame at a time: a slow client never makes the server buffer frames.
    { highWaterMark: 0 },
  );
  const response = new Response(body, { status: 200, headers: SSE_HEADERS });
  sources.set(response, stream);
  return response;
}
