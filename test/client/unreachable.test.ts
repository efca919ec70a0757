import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, isJobwireError, JobwireError, type JobEvent, type JobSnapshot } from '../../src/client/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { JobTracker, LocalPluginManager } from '../../src/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { rejection, until } from '../helpers/deferred.js';
import { startServer, type TestServer } from '../helpers/server.js';

/** The JobwireError `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<JobwireError> {
  const error = await rejection(promise);
  if (!isJobwireError(error)) throw new Error(`expected a JobwireError, got ${String(error)}`);
  return error;
}

/** The URL of a port nothing listens on (a server that was there and is closed). */
async function nobodyThere(): Promise<string> {
  const gone = await startServer((_req, res) => res.end());
  await gone.close();
  return gone.url;
}

/** A running job, as a page that rendered it holds it. */
const running: JobSnapshot = { id: 'r5Qy0ZzLd3bE8Dp2aF1cXw', plugin: 'transcribe', status: 'running', progress: 0, input: {}, attempt: 1, maxAttempts: 1, metadata: {}, priority: 0, createdAt: '2025-01-01T00:00:00.000Z' };

/** A timeout's abort, as `AbortSignal.timeout(ms)` makes it. */
const timeoutReason = (): DOMException => new DOMException('The operation timed out.', 'TimeoutError');

/** `wait` and `follow` against a server that cannot be reached, or that went away: they retry, tell it, and end on an abort. */
describe('a server that cannot be reached', () => {
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.close();
  });

  it('follow retries without end and tells each failure to onError; an abort ends it quietly', async () => {
    const baseUrl = await nobodyThere();
    const client = createJobClient({ baseUrl, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    const told: string[] = [];
    const controller = new AbortController();
    const reading = rejection(
      (async () => {
        for await (const event of client.follow(running.id, { signal: controller.signal, onError: (error) => told.push(`${error.code}: ${error.message}`) })) void event;
        throw new Error('ended quietly');
      })(),
    );
    await until(() => told.length >= 3, 10_000, 'three failed tries');
    controller.abort();
    expect(((await reading) as Error).message).toBe('ended quietly');
    expect(new Set(told)).toEqual(new Set([`UNAVAILABLE: Could not reach ${baseUrl}`]));
  });

  it('wait of a job passes onError and onOpen on, retries meanwhile, and an abort rejects: TIMEOUT for a timeout, else CANCELLED', async () => {
    const baseUrl = await nobodyThere();
    const client = createJobClient({ baseUrl, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    for (const [reason, code] of [
      [timeoutReason(), 'TIMEOUT'],
      [new Error('page closed'), 'CANCELLED'],
    ] as const) {
      const told: string[] = [];
      const controller = new AbortController();
      const waiting = failure(client.wait(running, { signal: controller.signal, onError: (error) => told.push(error.code), onOpen: () => told.push('open') }));
      await until(() => told.length >= 2, 10_000, 'two failed tries');
      controller.abort(reason);
      const error = await waiting;
      expect([error.code, error.cause]).toEqual([code, reason]);
      expect(error.message).toBe(`Stopped waiting for job ${running.id}${code === 'TIMEOUT' ? ': timed out' : ''}`);
      expect(new Set(told)).toEqual(new Set(['UNAVAILABLE']));
    }
    // As the docs show it: bounded by AbortSignal.timeout.
    expect((await failure(client.wait(running, { signal: AbortSignal.timeout(20) }))).code).toBe('TIMEOUT');
    // By id, it reads the job first: that read fails at once.
    expect((await failure(client.wait(running.id))).code).toBe('UNAVAILABLE');
    // An aborted signal: nothing is asked.
    expect((await failure(client.wait(running.id, { signal: AbortSignal.abort(timeoutReason()) }))).code).toBe('TIMEOUT');
  });

  it('wait(id) is aborted while its first read hangs (a server that accepts and never answers)', async () => {
    const asked: string[] = [];
    const hanging = createJobClient({
      baseUrl: 'http://api.test',
      fetch: (input, init) => {
        asked.push(String(input));
        return new Promise<Response>((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason as Error)));
      },
    });
    const controller = new AbortController();
    const waiting = failure(hanging.wait('abc', { signal: controller.signal }));
    await until(() => asked.length === 1, 5_000, 'the read of the job');
    controller.abort(timeoutReason());
    const error = await waiting;
    expect([error.code, asked]).toEqual(['TIMEOUT', ['http://api.test/jobs/abc']]);
  });

  it('after a restart of a server on the in-memory backend, a follow ends with JOB_NOT_FOUND: the job is gone', async () => {
    const start = () => {
      const control = controlledPlugin();
      const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
      return { control, tracker, handler: toNodeHandler(createJobRoutes(tracker, { sse: { retryMs: 5 } })) };
    };
    let current = start();
    const before = current;
    const server = await startServer((req: IncomingMessage, res: ServerResponse) => void current.handler(req, res));
    servers.push(server);
    const client = createJobClient({ baseUrl: server.url, reconnect: { initialDelayMs: 1, maxDelayMs: 5 } });
    const job = await client.submit('controlled', {});
    await before.control.started(job.id);
    const events: string[] = [];
    const told: string[] = [];
    const error = await failure(
      (async () => {
        for await (const event of client.follow(job.id, { onError: (lost) => told.push(lost.code) }) as AsyncIterable<JobEvent>) {
          events.push(event.type);
          if (event.type !== 'started') continue;
          // The restart: a new process with an empty in-memory store, every connection dropped.
          current = start();
          server.server.closeAllConnections();
          await before.tracker.close({ timeoutMs: 0 });
        }
      })(),
    );
    expect([error.code, error.message]).toEqual(['JOB_NOT_FOUND', `Unknown job ${job.id}`]);
    expect(events).toEqual(['queued', 'started']);
    expect(told).toEqual(['UNAVAILABLE']);
    await current.tracker.close({ timeoutMs: 0 });
  });
});
