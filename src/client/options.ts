import type { JobwireError } from '../errors.js';
import type { ListQuery } from '../tracker/types.js';

/** Headers as `fetch` takes them: a record, `[name, value]` pairs, or a `Headers`. */
export type HeadersInput = Record<string, string> | [string, string][] | Headers;

/**
 * Reconnect backoff of `follow` and `watch`: positive finite numbers of milliseconds, `maxDelayMs`
 * not below `initialDelayMs` (else `createJobClient` throws `INVALID_CONFIG`).
 */
export interface ReconnectOptions {
  /**
   * The first wait; a server's `retry:` takes its place when it sends one. Also the least time
   * between two connections the server opens, so a stream that opens and breaks at once never spins.
   * @default 500
   */
  initialDelayMs?: number;
  /**
   * The longest wait: each failed try doubles it up to this (with jitter); each connection the
   * server opens starts again from the first. It also caps a `Retry-After`. @default 15_000
   */
  maxDelayMs?: number;
}

/** Options for `createJobClient`. */
export interface JobClientOptions {
  /**
   * Origin and prefix the routes are mounted under: `'https://api.example.com'`, `'/api'` (a
   * relative URL resolves against the page's location in a browser).
   */
  baseUrl: string | URL;
  /**
   * Where `createJobRoutes`' job routes live below `baseUrl`: a path on its host (one leading `/`,
   * no backslash). @default '/jobs'
   */
  basePath?: string;
  /** Where the plugin list lives below `baseUrl` (a path, as `basePath`). @default '/plugins' */
  pluginsPath?: string;
  /**
   * Sent with every request, the streams' included. A function is called for each request (and
   * each reconnect): fresh tokens.
   * @example headers: async () => ({ authorization: `Bearer ${await token()}` })
   */
  headers?: HeadersInput | (() => HeadersInput | Promise<HeadersInput>);
  /** The `fetch` to use. @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Reconnect backoff of `follow` and `watch`. @default { initialDelayMs: 500, maxDelayMs: 15_000 } */
  reconnect?: ReconnectOptions;
}

/** What `follow` and `watch` tell about their connections. */
export interface ConnectionCallbacks {
  /** Called after each (re)connect that the server answered with a stream, before its events. */
  onOpen?: (() => void) | undefined;
  /**
   * Called when a connection fails or breaks and the client is about to reconnect: `error` says why
   * (`UNAVAILABLE`, or the server's code of a 5xx; a 408 or 429 too). A page shows "reconnecting…"
   * here and clears it in `onOpen`. Not called for a stream the server ends cleanly, which is asked
   * again at once (unless it happens twice in a row). What ends the iteration (another 4xx) is
   * thrown instead.
   */
  onError?: ((error: JobwireError) => void) | undefined;
}

/** Options for `client.follow`. */
export interface FollowOptions extends ConnectionCallbacks {
  /** Aborting ends the iteration (no error) and closes the connection. */
  signal?: AbortSignal | undefined;
  /**
   * Start after this event: one job, its `seq`; several jobs, their cursors `jobId:seq,…` (as the
   * multiplexed route's `Last-Event-ID`). A job without one is followed from its first event.
   */
  lastEventId?: string | number | undefined;
}

/** Options for `client.wait`. */
export interface WaitOptions extends ConnectionCallbacks {
  /**
   * Aborting rejects the wait and closes its connection: with `TIMEOUT` when the reason is a
   * `TimeoutError` (`AbortSignal.timeout(ms)`), else `CANCELLED`; the reason is the error's `cause`.
   */
  signal?: AbortSignal | undefined;
}

/** Options for `client.watch`. */
export interface WatchOptions extends ConnectionCallbacks {
  /** Aborting ends the iteration (no error) and closes the connection. */
  signal?: AbortSignal | undefined;
  /**
   * Called after each (re)connect, before any event of it: a watch has no replay, so this is when a
   * list page reads `GET /jobs` again.
   */
  onOpen?: (() => void) | undefined;
}

/** The jobs a `client.watch` reports on: filters as `GET /jobs` takes them. */
export type WatchQuery = Pick<ListQuery, 'tenantId' | 'workspaceId' | 'plugin' | 'status'>;
