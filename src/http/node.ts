import type { IncomingMessage, ServerResponse } from 'node:http';
import { JobwireError, messageOf } from '../errors.js';
import { logDebug, silentLogger, type Logger } from '../logger.js';
import { drained, writeSSE } from '../sse/node.js';
import { jobStreamOf } from '../sse/response.js';
import { errorResponse, httpOnlyError } from './error-response.js';
import { ownsPath } from './owned-paths.js';

/** A node-style handler; `next` (Express/Connect) is called for requests the routes do not own. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (error?: unknown) => void) => Promise<void>;

/** Options for {@link toNodeHandler}. */
export interface NodeHandlerOptions {
  /** Where failures to write a response are logged. */
  logger?: Logger;
}

/** A request whose body a framework already parsed (Express `express.json()`, Fastify). */
type ParsedRequest = IncomingMessage & { body?: unknown };

/**
 * The request body as a web stream that reads only as fast as it is consumed, and not at all until
 * it is (a request the routes do not own goes to `next` untouched). `discard()` — called once the
 * handler is done, and by a cancel when a body is over the size limit — drains and drops what is
 * left instead of destroying the socket, so the client still reads the response; the server's
 * `requestTimeout` bounds how long a client may keep sending.
 */
function bodyStream(req: IncomingMessage): { stream: ReadableStream<Uint8Array>; discard(): void } {
  let started = false;
  let done = false;
  let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
  const onData = (chunk: Buffer | string): void => {
    if (done || !controller) return;
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    controller.enqueue(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    req.pause(); // one chunk at a time: the next pull resumes
  };
  const onEnd = (): void => {
    if (done) return;
    done = true;
    controller?.close();
  };
  const onError = (error: Error): void => {
    if (done) return;
    done = true;
    controller?.error(error);
  };
  const discard = (): void => {
    if (!started) return;
    done = true;
    req.off('data', onData);
    req.off('end', onEnd);
    req.off('error', onError);
    if (!req.complete) req.resume();
  };
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
      },
      pull() {
        if (!started) {
          started = true;
          req.on('data', onData);
          req.once('end', onEnd);
          req.once('error', onError);
        }
        req.resume();
      },
      cancel: discard,
    },
    { highWaterMark: 0 },
  );
  return { stream, discard };
}

/** Methods node accepts but the fetch `Request` refuses. */
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
/** A Host header: a name, IPv4 or [IPv6] literal and an optional port, nothing that could move into the path. */
const HOST_PATTERN = /^(?:\[[\dA-Fa-f:.]+\]|[\w.~%!$&'()*+,;=-]+)(?::\d*)?$/;

/** The request target as a URL: origin-form on the Host header, absolute-form as sent. @throws for what URL refuses. */
function targetUrl(req: IncomingMessage): URL {
  const target = req.url ?? '/';
  if (!target.startsWith('/')) return new URL(target);
  const host = req.headers.host ?? 'localhost';
  if (!HOST_PATTERN.test(host)) throw new TypeError('Invalid Host header');
  // Appended, not resolved against a base: a target like `//other/jobs` stays that path.
  return new URL(`http://${host}${target}`);
}

/**
 * The path of a request target that cannot become a URL (credentials, a bad Host header): enough to
 * tell whose route it is. Undefined for a target without a path (`*`).
 */
function lenientPath(target: string): string | undefined {
  const authority = /^[a-z][a-z\d+.-]*:\/\/[^/?#]*/i.exec(target);
  const rest = authority ? target.slice(authority[0].length) || '/' : target;
  if (!rest.startsWith('/')) return undefined;
  const end = rest.search(/[?#]/);
  try {
    return new URL(`http://localhost${end < 0 ? rest : rest.slice(0, end)}`).pathname;
  } catch {
    return undefined;
  }
}

function toRequest(req: ParsedRequest, signal: AbortSignal): { request: Request; discard(): void } {
  let discard = (): void => {};
  const url = targetUrl(req);
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || name.startsWith(':')) continue;
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else headers.set(name, value);
  }
  const method = (req.method ?? 'GET').toUpperCase();
  const init: RequestInit & { duplex?: 'half' } = { method, headers, signal };
  if (method !== 'GET' && method !== 'HEAD') {
    if (req.body !== undefined && (req.readableEnded || req.complete)) {
      // A body parser ran first: hand its value on as JSON.
      const text = typeof req.body === 'string' || Buffer.isBuffer(req.body) ? req.body.toString() : JSON.stringify(req.body);
      headers.delete('content-length');
      init.body = text;
    } else {
      const body = bodyStream(req);
      init.body = body.stream;
      discard = body.discard;
      init.duplex = 'half';
    }
  }
  return { request: new Request(url, init), discard };
}

/** Answer a request no route owns and no `next` takes. */
function notFound(res: ServerResponse): void {
  res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8' }).end(JSON.stringify(httpOnlyError('NOT_FOUND', 'Not found')));
}

/**
 * A request node accepted but `Request`/`URL` refuse (TRACE, a malformed Host header, a target
 * with credentials): 400 when the path is one of the handler's routes, else the host's (`next`,
 * or 404).
 */
async function refuse(handler: object, req: IncomingMessage, res: ServerResponse, next: ((error?: unknown) => void) | undefined): Promise<void> {
  const path = lenientPath(req.url ?? '/');
  if (path !== undefined && ownsPath(handler, path)) {
    const method = (req.method ?? '').toUpperCase();
    const message = FORBIDDEN_METHODS.has(method) ? `Method ${method} is not supported` : 'Malformed Host header or request target';
    await send(errorResponse(new JobwireError('INVALID_REQUEST', message)), res);
  } else if (next) {
    next();
  } else {
    notFound(res);
  }
}

function headersOf(response: Response): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    headers[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length > 0) headers['set-cookie'] = cookies;
  return headers;
}

async function send(response: Response, res: ServerResponse, logger: Logger = silentLogger): Promise<void> {
  res.writeHead(response.status, headersOf(response));
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const reader = response.body.getReader();
  const onClose = (): void => void reader.cancel().catch(logDebug(logger, 'could not stop a response body after the client left')); // client gone: stop the source at once
  res.on('close', onClose);
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done || res.destroyed) break;
      if (!res.write(value) && !(await drained(res))) break;
    }
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded && !res.destroyed) res.end();
  }
}

/**
 * Mount a fetch-style handler (such as `createJobRoutes(…)`) in node:http or Express. Streams the
 * response with backpressure; a client that disconnects aborts `request.signal` and cancels the
 * body at once. Requests the handler does not own go to `next` when there is one, else 404
 * `NOT_FOUND`. A request node accepts but a fetch `Request` cannot carry (method TRACE, a malformed
 * Host header, credentials in the target) is a 400 `INVALID_REQUEST` on the routes of
 * `createJobRoutes`, and goes to `next` (or 404) anywhere else.
 *
 * @example
 * ```ts
 * app.use(toNodeHandler(createJobRoutes(tracker)));            // Express
 * http.createServer(toNodeHandler(createJobRoutes(tracker)));  // node:http
 * ```
 */
export function toNodeHandler(handler: (request: Request) => Promise<Response | undefined>, options: NodeHandlerOptions = {}): NodeHandler {
  return async (req, res, next) => {
    const controller = new AbortController();
    const onClose = (): void => {
      if (!res.writableFinished) controller.abort();
    };
    res.on('close', onClose);
    // Late socket errors (client gone mid-write) must not crash the process.
    res.on('error', (error) => options.logger?.debug({ err: error }, `jobwire: client went away: ${messageOf(error)}`));
    try {
      let converted: ReturnType<typeof toRequest>;
      try {
        converted = toRequest(req, controller.signal);
      } catch {
        // Nothing was read yet: the body is still whole for `next`.
        await refuse(handler, req, res, next);
        return;
      }
      const { request, discard } = converted;
      let response: Response | undefined;
      try {
        response = await handler(request);
      } finally {
        discard(); // what the handler left unread is drained, never buffered
      }
      if (response === undefined) {
        if (next) next();
        else notFound(res);
        return;
      }
      // An SSE response from jobwire/sse goes out natively: no web-stream hops per frame.
      const stream = jobStreamOf(response);
      if (stream) await writeSSE(res, stream, options.logger ? { logger: options.logger, headers: headersOf(response) } : { headers: headersOf(response) });
      else await send(response, res, options.logger);
    } catch (error) {
      options.logger?.error({ err: error }, `jobwire: request failed: ${messageOf(error)}`);
      if (!res.headersSent) await send(errorResponse(error), res, options.logger);
      else if (!res.writableEnded) res.end();
    } finally {
      res.off('close', onClose);
    }
  };
}
