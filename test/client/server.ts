import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobTracker, LocalPluginManager, type JobEvent, type Plugin } from '../../src/index.js';
import { createJobRoutes, toNodeHandler, type JobRoutesOptions } from '../../src/http/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { collect } from '../helpers/deferred.js';
import { startServer } from '../helpers/server.js';

/** One request for an event stream, as the server saw it. */
export interface StreamRequest {
  path: string;
  lastEventId: string | undefined;
}

/** What the server does with a request before the routes see it. */
export type Fault =
  /** Let this many job events through, then cut the connection in the middle of the next frame. */
  | { cutAfter: number }
  /** Answer with this status and a body that is not JSON, with these headers (e.g. `Retry-After`). */
  | { status: number; headers?: Record<string, string> }
  /**
   * Let this many job events through, then end the response as a server does (no error): after the
   * last whole frame, or (`midFrame`) after half of the next one, as a proxy that closes cleanly.
   */
  | { endAfter: number; midFrame?: true }
  /** Drop the connection before answering. */
  | 'drop'
  /** Let this many job events through, then cut, and strip `Last-Event-ID` from the request (a proxy that drops it): the stream replays from the first event. */
  | { cutAfter: number; forgetCursor: true };

/** Options for {@link startJobServer}. */
export interface JobServerOptions {
  routes?: JobRoutesOptions;
  /** The fault of each request for an event stream (`undefined`: none), in order. */
  faults?: (request: StreamRequest, index: number) => Fault | undefined;
  plugins?: Plugin[];
}

/**
 * Let `limit` job events (frames with an `id:`) through `res.write`, then hand `stop` what is left
 * to write (half of the next frame with `half`) and the original `write`.
 */
function stopAfter(res: ServerResponse, limit: number, half: boolean, stop: (rest: string, write: (chunk: string, done?: () => void) => boolean) => void): void {
  const write = res.write.bind(res) as (chunk: string | Uint8Array, done?: () => void) => boolean;
  let sent = 0;
  let stopped = false;
  res.write = ((chunk: string | Uint8Array) => {
    if (stopped) return true; // the connection is going: what the server still writes is lost, as on a real network
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    let out = '';
    for (const frame of text.split(/(?<=\n\n)/)) {
      if (/(?:^|\n)id:/.test(frame)) {
        if (sent === limit) {
          stopped = true;
          stop(out + (half ? frame.slice(0, Math.ceil(frame.length / 2)) : ''), write);
          return true;
        }
        sent += 1;
      }
      out += frame;
    }
    return write(out);
  }) as typeof res.write;
  const end = res.end.bind(res);
  res.end = ((...args: Parameters<typeof res.end>) => (stopped ? res : end(...args))) as typeof res.end;
}

/** Let `limit` job events through, then write half of the next and destroy the socket. */
function cutAfter(res: ServerResponse, limit: number): void {
  // Destroyed once the bytes are handed to the socket: the client gets them, then a broken connection.
  stopAfter(res, limit, true, (rest, write) => write(rest, () => res.socket?.destroy()));
}

/** Let `limit` job events through, then end the response cleanly (after half of the next frame with `midFrame`). */
function endAfter(res: ServerResponse, limit: number, midFrame: boolean): void {
  const end = res.end.bind(res);
  stopAfter(res, limit, midFrame, (rest) => end(rest));
}

/**
 * A real jobwire server (node:http, `createJobRoutes` through `toNodeHandler`) running a
 * `controlled` plugin, which can cut, refuse or drop requests for event streams.
 */
export async function startJobServer(options: JobServerOptions = {}) {
  const control = controlledPlugin();
  const plugins = new LocalPluginManager().register(control.plugin);
  for (const plugin of options.plugins ?? []) plugins.register(plugin);
  const tracker = new JobTracker({ plugins });
  const routes = createJobRoutes(tracker, { sse: { retryMs: 5 }, ...options.routes });
  const handler = toNodeHandler(routes);
  const streams: StreamRequest[] = [];
  const server = await startServer((req: IncomingMessage, res: ServerResponse) => {
    const path = req.url ?? '/';
    if (!/\/events(?:\?|$)/.test(path)) return void handler(req, res);
    const request: StreamRequest = { path, lastEventId: req.headers['last-event-id'] as string | undefined };
    streams.push(request);
    const fault = options.faults?.(request, streams.length - 1);
    if (fault === 'drop') return void req.socket.destroy();
    if (fault && 'status' in fault) return void res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers }).end('<h1>Bad gateway</h1>');
    if (fault && 'endAfter' in fault) endAfter(res, fault.endAfter, fault.midFrame === true);
    else if (fault) cutAfter(res, fault.cutAfter);
    if (fault && 'forgetCursor' in fault) delete req.headers['last-event-id'];
    void handler(req, res);
  });
  return {
    url: server.url,
    tracker,
    control,
    /** Every request for an event stream, in order. */
    streams,
    /** The job's whole log as the tracker replays it, as JSON (what the client parses). */
    async log(id: string): Promise<JobEvent[]> {
      return JSON.parse(JSON.stringify(await collect(tracker.events(id)))) as JobEvent[];
    },
    async close(): Promise<void> {
      await tracker.close({ timeoutMs: 0 });
      await server.close();
    },
  };
}

export type JobServer = Awaited<ReturnType<typeof startJobServer>>;
