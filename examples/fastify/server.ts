/**
 * Fastify 5: the routes run on the raw request/response (`reply.hijack()` + toNodeHandler), so SSE
 * streams with backpressure and closes when the client leaves.
 */
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { createJobRoutes, toNodeHandler } from 'jobwire/http';
import { createDemoTracker } from '../shared/demo.js';
import type { RunningExample } from '../shared/serve.js';
import { runFromCommandLine } from '../shared/serve.js';

export async function start({ port = 3000, host = '127.0.0.1' } = {}): Promise<RunningExample> {
  const tracker = createDemoTracker();
  const handle = toNodeHandler(createJobRoutes(tracker));
  const app = Fastify();

  await app.register(async (jobs) => {
    // Leave bodies unread: the jobwire routes read (and size-limit) them themselves.
    jobs.removeAllContentTypeParsers();
    jobs.addContentTypeParser('*', (_request, _payload, done) => done(null));
    for (const url of ['/jobs', '/jobs/*', '/plugins', '/results', '/schedules']) {
      jobs.route({
        method: ['GET', 'HEAD', 'POST', 'DELETE'],
        url,
        handler: async (request, reply) => {
          reply.hijack();
          await handle(request.raw, reply.raw);
        },
      });
    }
  });

  await app.listen({ port, host });
  const address = app.server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    url: `http://${host}:${actualPort}`,
    async close() {
      await tracker.close({ timeoutMs: 1_000 });
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runFromCommandLine('jobwire Fastify example', start);
