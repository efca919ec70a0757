import { JobwireError, isJobwireError, messageOf } from '../errors.js';
import { errorResponse, json } from '../http/error-response.js';
import { ownsPath, registerOwnedPaths } from '../http/owned-paths.js';
import { createJobRoutes, type AuthorizeContext, type JobRoutesHandler } from '../http/routes.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { assetOf, assetResponse, loadPageScript } from './assets.js';
import { dashboardSettings, type DashboardOptions } from './options.js';
import { PAGE_CSP, renderShell } from './shell.js';
import { DASHBOARD_CSS } from './styles.js';

/** A fetch-style handler: a `Response`, or `undefined` when the request is not for the dashboard. */
export type DashboardHandler = JobRoutesHandler;

/** The routes of the page's API that only read, plus the two actions of its buttons. */
const PAGE_WRITES = new Set(['cancel', 'retry']);

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: 'INVALID_REQUEST', message: `Method not allowed; use ${allow}` } }, 405, { Allow: allow });
}

/**
 * An operations dashboard for a tracker, as one fetch-style handler: a single page (jobs with live
 * status and progress, filters, a job's events, output, input and result, cancel and re-run,
 * per-plugin throughput and durations) and the API it reads, all below `basePath`.
 *
 * | path | answer |
 * |---|---|
 * | `{basePath}`, `{basePath}/` | the page (HTML, no data) |
 * | `{basePath}/assets/app.js`, `…/app.css` | its script and styles (`ETag`; cached for good under their `?v=`) |
 * | `{basePath}/api/jobs…`, `…/api/plugins`, `…/api/results`, `…/api/schedules` | the routes of `createJobRoutes`, read-only but for `POST …/cancel` and `POST …/retry` |
 * | `{basePath}/api/stats` | `tracker.stats()` (authorize action `'stats'`) |
 *
 * Every API call goes through `authorize`; the page and its assets carry no data and are not
 * authorized. Mount it like `createJobRoutes` (it answers `undefined` for other paths), also
 * through `toNodeHandler` in node:http, Express and Fastify.
 * @throws `INVALID_CONFIG` for a bad option.
 * @example
 * ```ts
 * const dashboard = createDashboard(tracker, { authorize: ({ request }) => isStaff(request) });
 * app.all('/jobwire/*', async (c, next) => (await dashboard(c.req.raw)) ?? next());
 * ```
 */
export function createDashboard(tracker: JobTracker, options: DashboardOptions = {}): DashboardHandler {
  const { base, title, authorize, sse, logger } = dashboardSettings(options);
  const apiBase = `${base}/api`;
  const api = createJobRoutes(tracker, {
    basePath: `${apiBase}/jobs`,
    pluginsPath: `${apiBase}/plugins`,
    resultsPath: `${apiBase}/results`,
    schedulesPath: `${apiBase}/schedules`,
    ...(authorize && { authorize }),
    ...(sse && { sse }),
    ...(logger && { logger }),
  });
  const statsPath = `${apiBase}/stats`;
  const style = assetOf(DASHBOARD_CSS, 'text/css; charset=utf-8');

  const isPage = (path: string): boolean => path === base || path === `${base}/` || (base === '' && path === '/');
  const isAsset = (path: string): boolean => path === `${base}/assets/app.js` || path === `${base}/assets/app.css`;
  const owns = (path: string): boolean => isPage(path) || isAsset(path) || path === statsPath || path === `${statsPath}/` || ownsPath(api, path);

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
    if (authorize) {
      const context: AuthorizeContext = { request, action: 'stats' };
      let verdict: boolean | void;
      try {
        verdict = await authorize(context);
      } catch (error) {
        throw isJobwireError(error) ? error : new JobwireError('FORBIDDEN', 'Forbidden', { cause: error });
      }
      if (verdict === false) throw new JobwireError('FORBIDDEN', 'Forbidden');
    }
    return json(await tracker.stats(), 200, { 'Cache-Control': 'no-store' });
  }

  /** The page's API: refuses what the page never does (submit, delete), so the dashboard adds no way to start or remove jobs. */
  async function apiRoute(request: Request, path: string, method: string): Promise<Response | undefined> {
    if (method !== 'GET' && method !== 'HEAD') {
      const action = path.slice(path.lastIndexOf('/') + 1);
      const jobAction = path.startsWith(`${apiBase}/jobs/`) && PAGE_WRITES.has(action);
      if (!jobAction) return methodNotAllowed('GET');
    }
    return api(request);
  }

  async function route(request: Request, url: URL): Promise<Response | undefined> {
    const path = url.pathname;
    if (!owns(path)) return undefined;
    const method = request.method.toUpperCase();
    const reading = method === 'GET' || method === 'HEAD';
    if (isPage(path) || isAsset(path)) {
      if (!reading) return methodNotAllowed('GET');
      if (isPage(path)) return page(request);
      return assetResponse(path.endsWith('.css') ? style : await loadPageScript(), request, url);
    }
    if (path === statsPath || path === `${statsPath}/`) {
      if (!reading) return methodNotAllowed('GET');
      return stats(request);
    }
    return apiRoute(request, path, method);
  }

  const handler: DashboardHandler = async (request) => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return undefined;
    }
    try {
      return await route(request, url);
    } catch (error) {
      if (!isJobwireError(error)) logger?.error({ err: error, url: url.pathname }, `jobwire: dashboard route failed: ${messageOf(error)}`);
      else if (error.code === 'UNAVAILABLE') logger?.error({ err: error }, `jobwire: ${error.message}`);
      return errorResponse(error);
    }
  };
  registerOwnedPaths(handler, owns);
  return handler;
}
