/**
 * Hono 4 on @hono/node-server: the REST + SSE routes mounted on a Hono app, and the demo page.
 * This is what `npm start` runs. PORT and HOST are read from the environment.
 */
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { createAdaptorServer } from '@hono/node-server';
import { Hono } from 'hono';
import type { JobTracker } from 'jobwire';
import { createJobRoutes } from 'jobwire/http';
import { createDemoTracker } from '../shared/demo.js';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1', tracker = createDemoTracker() }: { port?: number; host?: string; tracker?: JobTracker } = {}): Promise<RunningExample> {
  const routes = createJobRoutes(tracker); // POST/GET /jobs, GET/DELETE /jobs/:id, GET /jobs/:id/events, GET /plugins
  const page = await readFile(new URL('../web/index.html', import.meta.url), 'utf8');

  const app = new Hono();
  app.get('/', (c) => c.html(page));
  app.all('*', async (c, next) => (await routes(c.req.raw)) ?? next());

  return listen(createAdaptorServer({ fetch: app.fetch }) as import('node:http').Server, tracker, port, host);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire demo (Hono)', start);
