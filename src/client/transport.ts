import { JobwireError } from '../errors.js';
import { errorOf } from './http-error.js';
import type { HeadersInput, JobClientOptions } from './options.js';

/** Query parameters: a repeated parameter is an array; `undefined` ones are left out. */
export type QueryParams = Record<string, string | number | readonly string[] | undefined>;

/** How the client reaches the server: URLs below `baseUrl`, the headers of every request, `fetch`. */
export interface Transport {
  /** The URL of `path` (from `/`) below `baseUrl`, with `query`. */
  url(path: string, query?: QueryParams): URL;
  /**
   * `fetch` with the client's headers and `headers` (these win). A network failure rejects with
   * `UNAVAILABLE`; an abort with the signal's reason, as `fetch` does.
   */
  send(url: URL, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }): Promise<Response>;
  /**
   * A JSON call: the parsed body of a 2xx answer; any other answer rejects with its `JobwireError`.
   * An abort of `signal` rejects with its reason, as `fetch` does.
   */
  json<T>(method: string, path: string, query?: QueryParams, body?: unknown, signal?: AbortSignal): Promise<T>;
  /** The `JobwireError` of a non-2xx answer to a request for `path` ({@link errorOf}, with where the routes were looked for). */
  error(response: Response, path: string): Promise<JobwireError>;
}

/** The location of the page, when there is one: a relative `baseUrl` resolves against it. */
const pageLocation = (): string | undefined => (globalThis as { location?: { href?: string } }).location?.href;

/**
 * Build the {@link Transport} of a client's options; `basePath` and `pluginsPath` (checked) are
 * where it looks for the routes, which an answer that no route gave names.
 */
export function createTransport(options: JobClientOptions, basePath: string, pluginsPath: string): Transport {
  const { baseUrl, headers } = options;
  if (typeof baseUrl !== 'string' && !(baseUrl instanceof URL)) throw new JobwireError('INVALID_CONFIG', '`baseUrl` must be a string or a URL');
  // Called as a plain function: a browser's fetch refuses to run as a method of another object.
  const fetchImpl = options.fetch ?? ((input: URL, init?: RequestInit) => fetch(input, init));

  function url(path: string, query: QueryParams = {}): URL {
    let base: URL;
    try {
      // Resolved per request: a client made at module load (server-side rendering) needs a page only once it calls.
      base = new URL(baseUrl, pageLocation());
    } catch {
      throw new JobwireError('INVALID_CONFIG', `\`baseUrl\` ${String(baseUrl)} is not an absolute URL, and there is no page location to resolve it against`);
    }
    // The path is set, not resolved against the base: whatever it holds, the request stays on the base's host.
    const target = new URL(base.origin);
    target.pathname = base.pathname.replace(/\/+$/, '') + path;
    for (const [key, value] of Object.entries(query)) {
      if (value === undefined) continue;
      for (const item of typeof value === 'object' ? value : [value]) target.searchParams.append(key, String(item));
    }
    return target;
  }

  async function send(target: URL, init: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal } = {}): Promise<Response> {
    const merged = new Headers((typeof headers === 'function' ? await headers() : headers) as HeadersInput | undefined);
    for (const [name, value] of Object.entries(init.headers ?? {})) merged.set(name, value);
    try {
      return await fetchImpl(target, { ...init, headers: merged });
    } catch (error) {
      if (init.signal?.aborted) throw error;
      throw new JobwireError('UNAVAILABLE', `Could not reach ${target.origin}`, { cause: error });
    }
  }

  const error = (response: Response, path: string): Promise<JobwireError> =>
    errorOf(response, `is createJobRoutes mounted at ${url(basePath).href}${path === pluginsPath ? `, with its pluginsPath at ${url(pluginsPath).href}` : ''}?`);

  async function json<T>(method: string, path: string, query?: QueryParams, body?: unknown, signal?: AbortSignal): Promise<T> {
    const target = url(path, query);
    const sent: Record<string, string> = { accept: 'application/json' };
    const init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal } = { method, headers: sent };
    if (body !== undefined) {
      sent['content-type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    if (signal) init.signal = signal;
    const response = await send(target, init);
    if (!response.ok) throw await error(response, path);
    try {
      return (await response.json()) as T;
    } catch (cause) {
      throw new JobwireError('UNAVAILABLE', `Expected JSON from ${method} ${target.pathname}`, { cause });
    }
  }

  return { url, send, json, error };
}
