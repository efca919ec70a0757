/**
 * Hono 4 on @hono/node-server: the REST + SSE routes mounted on a Hono app, the demo page, and
 * Prometheus metrics at /metrics.
 * This is what `npm start` runs. PORT and HOST are read from the environment.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { JobTracker } from 'jobwire';
import { createJobRoutes } from 'jobwire/http';
import { collectMetrics } from 'jobwire/metrics';
import { Registry } from 'prom-client';
import { createDemoTracker } from '../shared/demo.js';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1', tracker = createDemoTracker() }: { port?: number; host?: string; tracker?: JobTracker } = {}): Promise<RunningExample> {
  const routes = createJobRoutes(tracker); // POST/GET /jobs, GET/DELETE /jobs/:id, POST /jobs/:id/cancel, POST /jobs/:id/retry, GET /jobs/:id/events, GET /plugins, GET /schedules
  const page = await readFile(new URL('../web/index.html', import.meta.url), 'utf8');

  const registry = new Registry();
  await collectMetrics(tracker, { registry }); // jobwire_jobs_total, _job_duration_seconds, _queue_wait_seconds, _jobs_in_state, _sse_streams

  const app = new Hono();
  app.get('/', (c) => c.html(page));
  app.get('/metrics', async (c) => c.body(await registry.metrics(), 200, { 'Content-Type': registry.contentType }));
  app.all('*', async (c, next) => (await routes(c.req.raw)) ?? next());

  return listen(createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server, tracker, port, host);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire demo (Hono)', start);
