/**
 * Express 5: the REST routes mounted with toNodeHandler, and the SSE route written by hand with
 * openJobStream + writeSSE to show the lower-level pieces.
 */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import express, { type ErrorRequestHandler } from 'express';
import { createJobRoutes, errorResponse, toNodeHandler } from 'jobwire/http';
import { openJobStream, writeSSE } from 'jobwire/sse';
import { createDemoTracker } from '../shared/demo.js';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1' } = {}): Promise<RunningExample> {
  const tracker = createDemoTracker();
  const app = express();

  // Hand-written SSE route (createJobRoutes serves one too; this one shows writeSSE).
  app.get('/jobs/:id/events', async (req, res) => {
    const stream = await openJobStream(tracker, req.params.id, { lastEventId: req.get('last-event-id') });
    await writeSSE(res, stream);
  });
  app.use(toNodeHandler(createJobRoutes(tracker)));

  // Express 5 passes rejected handlers here: answer with jobwire's JSON error shape.
  const onError: ErrorRequestHandler = async (error, _req, res, _next) => {
    const response = errorResponse(error);
    res.status(response.status).type('application/json').send(await response.text());
  };
  app.use(onError);

  return listen(createServer(app), tracker, port, host);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire Express example', start);
