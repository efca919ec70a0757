import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
const postgresUp = await postgresAnswers();
if (!redisUp) console.warn('SKIPPED: worker fault tests on Redis — no Redis answers on 127.0.0.1:6379');
if (!postgresUp) console.warn('SKIPPED: worker fault tests on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = uniquePrefix().replace(/-/g, '');
const DATABASES = [
  { name: 'Redis', url: REDIS_URL, up: redisUp, cleanup: () => deleteKeys(prefix) },
  { name: 'PostgreSQL', url: POSTGRES_URL, up: postgresUp, cleanup: () => deleteQueues(prefix) },
];

interface Worker {
  child: ChildProcess;
  started: string[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

let queues = 0;

describe.each(DATABASES)('faults: worker processes on $name', (database) => {
  const workers: Worker[] = [];
  const trackers: JobTracker[] = [];
  let queueName = '';

  async function startWorker(storage = 'ok'): Promise<Worker> {
    const child = fork(resolve(import.meta.dirname, 'fixtures/fault-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CONNECTION: database.url, QUEUE_NAME: queueName, PREFIX: prefix, STORAGE: storage },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const worker: Worker = { child, started: [], exited: new Promise((done) => child.once('exit', (code, signal) => done({ code, signal }))) };
    let ready = false;
    child.on('message', (message: { type: string; jobId?: string }) => {
      if (message.type === 'ready') ready = true;
      if (message.type === 'started' && message.jobId) worker.started.push(message.jobId);
    });
    workers.push(worker);
    await until(() => ready, 30_000, 'a worker to start');
    return worker;
  }

  function producer(): JobTracker {
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, backend: new BullMQBackend({ connection: database.url, queueName, prefix, role: 'producer' }) });
    trackers.push(tracker);
    return tracker;
  }

  afterEach(async () => {
    await Promise.all(trackers.splice(0).map((tracker) => tracker.close({ timeoutMs: 0 })));
    for (const worker of workers.splice(0)) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    await database.cleanup();
  });

  it.skipIf(!database.up)('a worker SIGKILLed while it runs jobs: no job lost, none stuck, each ends once', async () => {
    queueName = `${prefix}-kill-${++queues}`;
    const [victim] = [await startWorker(), await startWorker()];
    const api = producer();
    const ended = new Map<string, number>();
    for (const type of ['completed', 'failed', 'cancelled'] as const) api.on(`job:${type}`, (event) => ended.set(event.jobId, (ended.get(event.jobId) ?? 0) + 1));
    const jobs = await Promise.all(Array.from({ length: 30 }, (_, i) => api.submit('steps', { count: 5, delayMs: 40 }, { metadata: { i } })));
    await until(() => victim!.started.length >= 2, 20_000, 'the victim to take jobs');
    victim!.child.kill('SIGKILL');
    expect((await victim!.exited).signal).toBe('SIGKILL');
    for (const job of jobs) expect((await api.wait(job.id, { timeoutMs: 60_000 })).status, job.id).toBe('completed');
    await until(() => jobs.every((job) => ended.get(job.id) === 1), 10_000, 'every end to be heard');
    expect([...ended.values()].every((count) => count === 1)).toBe(true);
    expect(await api.stats()).toMatchObject({ queued: 0, running: 0, completed: 30 });
  }, 120_000);

  it.skipIf(!database.up)('a worker with a hanging or a throwing storage and hostile plugins keeps running, and every job ends', async () => {
    for (const storage of ['hang', 'throw'] as const) {
      queueName = `${prefix}-${storage}-${++queues}`;
      const worker = await startWorker(storage);
      const api = producer();
      const results = await Promise.all([
        api.submit('echo', { text: storage }),
        api.submit('poison', { kind: 'cycle' }),
        api.submit('poison', { kind: 'bigint' }),
        api.submit('unreadable', { kind: 'revoked' }),
        api.submit('unreadable', { kind: 'message-getter' }),
        api.submit('ticker', { value: 'nan' }),
        api.submit('boom', { kind: 'huge' }),
      ]);
      const ends = await Promise.all(results.map((job) => api.wait(job.id, { timeoutMs: 30_000 })));
      expect(ends.map((job) => job.status)).toEqual(['completed', 'failed', 'failed', 'failed', 'failed', 'failed', 'failed']);
      expect(ends.slice(1).every((job) => job.error?.code === 'PLUGIN_FAILED')).toBe(true);
      // Still alive and taking jobs after all of it.
      expect(worker.child.exitCode).toBeNull();
      expect((await api.wait((await api.submit('echo', { text: 'still here' })).id, { timeoutMs: 30_000 })).status).toBe('completed');
    }
  }, 120_000);
});
