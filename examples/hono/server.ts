/**
 * Hono 4 on @hono/node-server: the REST + SSE routes mounted on a Hono app, the demo page, an htmx
 * page that follows jobs with server-rendered fragments, the operations dashboard at /jobwire, and
 * Prometheus metrics at /metrics. This is what `npm start` runs. PORT and HOST are read from the
 * environment.
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { JobSnapshot, JobTracker } from 'jobwire';
import { createDashboard } from 'jobwire/dashboard';
import { createJobRoutes } from 'jobwire/http';
import { collectMetrics } from 'jobwire/metrics';
import { Registry } from 'prom-client';
import { createDemoTracker } from '../shared/demo.js';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';
import { eventFragment, jobCard } from './fragments.js';

/** Where the htmx page's job routes live: their events route sends HTML fragments instead of JSON. */
const HTMX_JOBS = '/htmx/jobs';

/** Where the operations dashboard lives. */
const DASHBOARD = '/jobwire';

/**
 * The scripts the pages load, served from node_modules: htmx 2 and its SSE extension, and
 * jobwire's own browser client (one ES module) for the demo page.
 */
const require = createRequire(import.meta.url);
const VENDOR: Record<string, string> = {
  'htmx.min.js': require.resolve('htmx.org/dist/htmx.min.js'),
  'htmx-ext-sse.js': require.resolve('htmx-ext-sse/dist/sse.js'),
  'jobwire-client.js': require.resolve('jobwire/client/browser'),
};

export async function start({ port = 3000, host = '127.0.0.1', tracker = createDemoTracker() }: { port?: number; host?: string; tracker?: JobTracker } = {}): Promise<RunningExample> {
  const routes = createJobRoutes(tracker); // POST/GET /jobs, GET/DELETE /jobs/:id, POST /jobs/:id/cancel, POST /jobs/:id/retry, GET /jobs/:id/events, GET /jobs/:id/output, GET /plugins, GET /schedules
  // The same jobs for the htmx page, whose SSE carries one HTML fragment per event, then `end` after any ending.
  const htmxRoutes = createJobRoutes(tracker, {
    basePath: HTMX_JOBS,
    pluginsPath: '/htmx/plugins',
    resultsPath: '/htmx/results',
    schedulesPath: '/htmx/schedules',
    sse: { serialize: eventFragment, endEvent: 'end' },
  });
  // The dashboard at /jobwire: its page, its script and its own API. `authorize: () => true` lets everyone in, on
  // purpose: this is a local demo, listening on 127.0.0.1 by default. An app decides who may see and act on its
  // jobs (a session cookie, a staff role: see docs/dashboard.md).
  const dashboard = createDashboard(tracker, { basePath: DASHBOARD, title: 'jobwire demo', authorize: () => true });
  const page = await readFile(new URL('../web/index.html', import.meta.url), 'utf8');
  const htmxPage = await readFile(new URL('../web/htmx.html', import.meta.url), 'utf8');
  const vendor = new Map(await Promise.all(Object.entries(VENDOR).map(async ([name, file]) => [name, await readFile(file, 'utf8')] as const)));

  const registry = new Registry();
  await collectMetrics(tracker, { registry }); // jobwire_jobs_total, _job_duration_seconds, _queue_wait_seconds, _jobs_in_state, _sse_streams

  const app = new Hono();
  app.get('/', (c) => c.html(page));
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));

  app.get('/vendor/:file', (c) => {
    const script = vendor.get(c.req.param('file'));
    return script === undefined ? c.notFound() : c.body(script, 200, { 'Content-Type': 'text/javascript; charset=utf-8', 'Cache-Control': 'public, max-age=3600' });
  });
  // The htmx page, with a card for each recent transcription: a reload replays each one's text so far, then goes on live.
  app.get('/htmx', async (c) => {
    const { jobs } = await tracker.list({ plugin: 'transcribe', limit: 5 });
    return c.html(htmxPage.replace('<!-- jobs -->', jobs.map((job) => jobCard(job, HTMX_JOBS)).join('\n')));
  });
  // An htmx form submit gets the new job's card; anything else the routes' own answer (JSON).
  app.post(HTMX_JOBS, async (c) => {
    const response = await htmxRoutes(c.req.raw);
    if (response?.status !== 202 || c.req.header('hx-request') !== 'true') return response ?? c.notFound();
    return c.html(jobCard((await response.json()) as JobSnapshot, HTMX_JOBS));
  });
  app.all('/htmx/*', async (c, next) => (await htmxRoutes(c.req.raw)) ?? next());
  app.all(DASHBOARD, async (c, next) => (await dashboard(c.req.raw)) ?? next());
  app.all(`${DASHBOARD}/*`, async (c, next) => (await dashboard(c.req.raw)) ?? next());
  app.all('*', async (c, next) => (await routes(c.req.raw)) ?? next());

  return listen(createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server, tracker, port, host);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  let url = '';
  await runFromCommandLine('jobwire demo (Hono)', async (options) => {
    const running = await start(options);
    url = running.url;
    return running;
  });
  console.log(`dashboard: ${url}${DASHBOARD}`);
}
