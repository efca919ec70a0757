import { JobwireError, isJobwireError, messageOf } from '../errors.js';
import { httpOnlyError, json } from '../http/error-response.js';
import { fetchHandler } from '../http/fetch-handler.js';
import { registerOwnedPaths } from '../http/owned-paths.js';
import { createJobRoutes, type JobRoutesHandler } from '../http/routes.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { assetOf, assetResponse, loadPageScript } from './assets.js';
import { dashboardSettings, type DashboardOptions } from './options.js';
import { PAGE_CSP, renderShell } from './shell.js';
import { DASHBOARD_CSS } from './styles.js';

/** A fetch-style handler: a `Response`, or `undefined` when the request is not for the dashboard. */
export type DashboardHandler = JobRoutesHandler;

/**
 * A route of the page's API, by what it does: `read` (GET, HEAD), `stream` (GET: an event stream),
 * `write` (POST: cancel, re-run) or `stats` (GET, HEAD: answered here).
 */
type ApiRoute = 'read' | 'stream' | 'write' | 'stats';

/** The `Allow` header of a 405 on each kind of route (a read answers HEAD too, a stream does not). */
const ALLOW: Record<ApiRoute, string> = { read: 'GET', stream: 'GET', write: 'POST', stats: 'GET' };

/** A collection path may end in one `/`, as in `createJobRoutes`. */
const COLLECTION = /^\/(?:jobs|plugins|stats)\/?$/;
/** `/jobs/:id`, `/jobs/:id/events`, `/jobs/:id/cancel`, `/jobs/:id/retry` (an id is one path segment). */
const JOB_ROUTE = /^\/jobs\/[^/]+(?:\/(events|cancel|retry))?$/;

/**
 * The route of `path` below the API (`/jobs…`, `/plugins`, `/stats`), when the page uses it: the
 * job list, a job, the three kinds of event stream, cancel, re-run, the plugins and the stats.
 * Nothing else of `createJobRoutes` (submit, delete, output, result, results, schedules) is served.
 */
function apiRouteOf(path: string): ApiRoute | undefined {
  if (COLLECTION.test(path)) return path.startsWith('/stats') ? 'stats' : 'read';
  if (path === '/jobs/events') return 'stream'; // several jobs (`?id=…`), or every job of the filters
  const sub = JOB_ROUTE.exec(path);
  if (!sub) return undefined;
  if (sub[1] === undefined) return 'read';
  return sub[1] === 'events' ? 'stream' : 'write';
}

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: 'INVALID_REQUEST', message: `Method not allowed; use ${allow}` } }, 405, { Allow: allow });
}

function notFound(): Response {
  return json(httpOnlyError('NOT_FOUND', 'Not found'), 404);
}

/** Whether `origin` (an `Origin` header) is the origin of the request URL `url`. */
function isOwnOrigin(origin: string, url: URL): boolean {
  let sender: URL;
  try {
    sender = new URL(origin); // `null` (a sandboxed frame, a redirect across sites) is no URL: refused
  } catch {
    return false;
  }
  if (sender.origin === url.origin) return true;
  // TLS ended before the handler (a proxy, or `toNodeHandler`, which builds an http:// URL): the page was on https at the same host and port.
  return sender.protocol === 'https:' && url.protocol === 'http:' && sender.host === url.host;
}

/**
 * Whether a request that may change something comes from the page itself, as far as the browser
 * tells: `Sec-Fetch-Site` is `same-origin` (or absent: not a browser, or an old one), and `Origin`,
 * when sent, is the request's own. Cookies ride along on a request another site makes, so
 * `authorize` alone cannot tell.
 */
function isSameOrigin(request: Request, url: URL): boolean {
  const site = request.headers.get('sec-fetch-site');
  if (site !== null && site !== 'same-origin') return false;
  const origin = request.headers.get('origin');
  return origin === null || isOwnOrigin(origin, url);
}

/**
 * An operations dashboard for a tracker, as one fetch-style handler: a single page (jobs with live
 * status and progress, filters, a job's events, live output, input and result, cancel and re-run,
 * per-plugin throughput and durations) and the API it reads, all below `basePath`.
 *
 * | path | answer |
 * |---|---|
 * | `{basePath}`, `{basePath}/` | the page (HTML, no data) |
 * | `{basePath}/assets/app.js`, `…/app.css` | its script and styles (`ETag`; cached for good under their `?v=`) |
 * | `GET {basePath}/api/jobs`, `…/api/jobs/:id` | the job list and a job, as `createJobRoutes` answers them |
 * | `GET {basePath}/api/jobs/:id/events`, `…/api/jobs/events` | a job's stream, the stream of several (`?id=…`) or of every job of the filters |
 * | `POST {basePath}/api/jobs/:id/cancel`, `…/retry` | cancel, re-run (same-origin only) |
 * | `GET {basePath}/api/plugins` | the plugins |
 * | `GET {basePath}/api/stats` | `tracker.stats()` (authorize action `'stats'`) |
 *
 * Every other path below `{basePath}/api` is 404, and another method on one of these routes 405:
 * the API serves what the page uses, no more (no submit, delete, output, result, results or
 * schedules). Every API call goes through `authorize`, which is required; a request that is not a
 * GET must come from the page's own origin (`Sec-Fetch-Site`, `Origin`), else 403. The page and
 * its assets carry no data and are not authorized. Mount it like `createJobRoutes` (it answers
 * `undefined` for other paths), also through `toNodeHandler` in node:http, Express and Fastify.
 * @throws `INVALID_CONFIG` for a bad option, or a missing `authorize`.
 * @example
 * ```ts
 * const dashboard = createDashboard(tracker, { authorize: ({ request }) => isStaff(request) });
 * app.all('/jobwire/*', async (c, next) => (await dashboard(c.req.raw)) ?? next());
 * ```
 */
export function createDashboard(tracker: JobTracker, options: DashboardOptions): DashboardHandler {
  const { base, title, authorize, sse, logger } = dashboardSettings(options);
  const apiBase = `${base}/api`;
  // Only the routes of `apiRouteOf` are passed on to these: the others of `createJobRoutes` are never reached.
  const api = createJobRoutes(tracker, {
    basePath: `${apiBase}/jobs`,
    pluginsPath: `${apiBase}/plugins`,
    authorize,
    ...(sse && { sse }),
    ...(logger && { logger }),
  });
  const style = assetOf(DASHBOARD_CSS, 'text/css; charset=utf-8');

  const isPage = (path: string): boolean => path === base || path === `${base}/` || (base === '' && path === '/');
  const isAsset = (path: string): boolean => path === `${base}/assets/app.js` || path === `${base}/assets/app.css`;
  const isApi = (path: string): boolean => path === apiBase || path.startsWith(`${apiBase}/`);
  const owns = (path: string): boolean => isPage(path) || isAsset(path) || isApi(path);

  async function page(request: Request): Promise<Response> {
    const html = renderShell({ base, title, scriptVersion: (await loadPageScript()).version, styleVersion: style.version });
    return new Response(request.method === 'HEAD' ? null : html, {
      headers: {
        'Content-Type': 'text/html; charset=utf-8',
        'Cache-Control': 'no-cache',
        'Content-Security-Policy': PAGE_CSP,
        'X-Content-Type-Options': 'nosniff',
        // Job ids in the page's address are capabilities: never send them along as a referrer.
        'Referrer-Policy': 'no-referrer',
      },
    });
  }

  async function stats(request: Request): Promise<Response> {
    let verdict: boolean | void;
    try {
      verdict = await authorize({ request, action: 'stats' });
    } catch (error) {
      throw isJobwireError(error) ? error : new JobwireError('FORBIDDEN', 'Forbidden', { cause: error });
    }
    if (verdict === false) throw new JobwireError('FORBIDDEN', 'Forbidden');
    return json(await tracker.stats(), 200, { 'Cache-Control': 'no-store' });
  }

  /** The page's API: the routes it uses, each with its methods; a write only from the page's own origin. */
  async function apiRoute(request: Request, url: URL, method: string): Promise<Response | undefined> {
    if (method !== 'GET' && !isSameOrigin(request, url)) {
      throw new JobwireError('FORBIDDEN', 'A request from another site may not change jobs');
    }
    const route = apiRouteOf(url.pathname.slice(apiBase.length));
    if (route === undefined) return notFound();
    const allowed = route === 'write' ? method === 'POST' : method === 'GET' || (method === 'HEAD' && route !== 'stream');
    if (!allowed) return methodNotAllowed(ALLOW[route]);
    return route === 'stats' ? stats(request) : api(request);
  }

  async function route(request: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    if (!owns(path)) return undefined;
    const method = request.method.toUpperCase();
    if (isApi(path)) return apiRoute(request, url, method);
    if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET');
    if (isPage(path)) return page(request);
    return assetResponse(path.endsWith('.css') ? style : await loadPageScript(), request, url);
  }

  const handler: DashboardHandler = fetchHandler(route, (error, url) => {
    if (!isJobwireError(error)) logger?.error({ err: error, url: url.pathname }, `jobwire: dashboard route failed: ${messageOf(error)}`);
    else if (error.code === 'UNAVAILABLE') logger?.error({ err: error }, `jobwire: ${error.message}`);
  });
  registerOwnedPaths(handler, owns);
  return handler;
}
