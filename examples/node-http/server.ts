/** Plain node:http: one handler for every jobwire route, a 404 for the rest. */
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';
import { createJobRoutes, toNodeHandler } from 'jobwire/http';
import { createDemoTracker } from '../shared/demo.js';
import { listen, runFromCommandLine, type RunningExample } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1' } = {}): Promise<RunningExample> {
  const tracker = createDemoTracker();
  const server = createServer(toNodeHandler(createJobRoutes(tracker)));
  return listen(server, tracker, port, host);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire node:http example', start);
