import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';
import { createViewPlugins } from './fixtures/view-plugins.js';
import { queueEventsOf, recordEvents } from './helpers-view.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, "BullMQ's view of jobwire jobs");
let queues = 0;

describe.each(DATABASES)("BullMQ's own view of jobwire jobs on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  /** A producer and a worker tracker on a queue of their own, a raw BullMQ queue and a QueueEvents reader on it. */
  async function setup(options: { worker?: boolean } = {}) {
    const queueName = `${prefix}-view-${++queues}`; // BullMQ on PostgreSQL keys queues by name alone
    const fx = createViewPlugins();
    const backend = (role: 'producer' | 'worker') => new BullMQBackend({ connection: database.url, queueName, prefix, role, reconcileIntervalMs: 200 });
    const producing = backend('producer');
    const producer = new JobTracker({ plugins: fx.plugins, backend: producing });
    let worker: JobTracker | undefined;
    const startWorker = async () => {
      const working = backend('worker');
      worker = new JobTracker({ plugins: fx.plugins, backend: working });
      await working.ready();
    };
    const queue = database.queue(queueName);
    const events = queueEventsOf(database, queueName, prefix);
    const seen = recordEvents(events, ['progress', 'completed', 'failed', 'removed']);
    await Promise.all([producing.ready(), events.waitUntilReady()]);
    if (options.worker !== false) await startWorker();
    const close = async () => {
      await Promise.all([producer.close({ timeoutMs: 0 }), worker?.close({ timeoutMs: 0 })]);
      await Promise.all([queue.close(), events.close()]);
    };
    return { fx, producer, startWorker, queue, events, seen, close };
  }

  it.skipIf(!database.up)("a job's data carries its input and jobwire fields, it waits as `prioritized` (jobwire's priorities are BullMQ's), its progress follows ctx.progress and its result is its returnvalue", async () => {
    const t = await setup({ worker: false });
    try {
      const job = await t.producer.submit('paint', { key: 'p1' }, { tenantId: 't1', workspaceId: 'w1' });
      const waiting = await t.queue.getJob(job.id);
      expect(await t.queue.getJobState(job.id)).toBe('prioritized'); // the default priority too: so that a higher one runs first
      expect(waiting?.name).toBe('paint');
      expect(waiting?.data).toMatchObject({ input: { key: 'p1' }, jobwire: { id: job.id, plugin: 'paint', tenantId: 't1', workspaceId: 'w1' } });
      const urgent = await t.producer.submit('paint', { key: 'p1' }, { priority: 5 });
      expect(await t.queue.getJobState(urgent.id)).toBe('prioritized');
      expect((await t.queue.getJob(urgent.id))?.data).toMatchObject({ jobwire: { priority: 5 } });
      await t.startWorker();
      await until(async () => (await t.queue.getJob(job.id))?.progress === 43.75, 30_000, "the job's progress to show in BullMQ");
      await until(() => t.seen.some((event) => event.name === 'progress' && event.args.jobId === job.id && event.args.data === 43.75), 30_000, 'QueueEvents to emit the progress');
      expect((await t.producer.get(job.id))?.progress).toBe(43.75);
      t.fx.open('p1');
      const done = await t.producer.wait(job.id, { timeoutMs: 30_000 });
      expect(done.status).toBe('completed');
      await until(async () => (await t.queue.getJobState(job.id)) === 'completed', 30_000, 'BullMQ to say completed');
      const completed = await t.queue.getJob(job.id);
      expect(completed?.returnvalue).toEqual({ painted: 'p1' });
      expect(completed?.progress).toBe(100);
      await until(() => t.seen.some((event) => event.name === 'completed' && event.args.jobId === job.id), 30_000, 'QueueEvents to emit completed');
      expect(t.seen.find((event) => event.name === 'completed' && event.args.jobId === job.id)?.args.returnvalue).toEqual({ painted: 'p1' });
      await t.producer.wait(urgent.id, { timeoutMs: 30_000 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)('a plugin failure is a BullMQ failure with its failedReason, and a cancelled job fails in BullMQ with a clear reason', async () => {
    const t = await setup();
    try {
      const job = await t.producer.submit('crash', { message: 'the paint ran out' });
      expect((await t.producer.wait(job.id, { timeoutMs: 30_000 })).status).toBe('failed');
      await until(async () => (await t.queue.getJobState(job.id)) === 'failed', 30_000, 'BullMQ to say failed');
      expect((await t.queue.getJob(job.id))?.failedReason).toBe('the paint ran out');
      await until(() => t.seen.some((event) => event.name === 'failed' && event.args.jobId === job.id && event.args.failedReason === 'the paint ran out'), 30_000, 'QueueEvents to emit failed');
      const running = await t.producer.submit('paint', { key: 'never' });
      await until(async () => (await t.producer.get(running.id))?.status === 'running', 30_000, 'the job to run');
      await t.producer.cancel(running.id);
      await until(async () => (await t.queue.getJobState(running.id)) === 'failed', 30_000, 'BullMQ to fail the cancelled job');
      expect((await t.queue.getJob(running.id))?.failedReason).toMatch(/^Cancelled: /);
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)("a retry is BullMQ's own: attemptsMade and failedReason count the failed tries, the wait sits in the delayed set", async () => {
    const t = await setup();
    try {
      const job = await t.producer.submit('flaky', { key: 'f1', failures: 1 }, { attempts: 3, backoff: { type: 'fixed', delayMs: 600_000 } });
      await until(async () => (await t.queue.getJobState(job.id)) === 'delayed', 30_000, "the retry to wait in BullMQ's delayed set");
      const delayed = await t.queue.getJob(job.id);
      expect(delayed).toMatchObject({ attemptsMade: 1, failedReason: 'try 1 failed' });
      expect(delayed?.opts.attempts).toBe(3);
      expect(await t.producer.get(job.id)).toMatchObject({ status: 'queued', attempt: 2 });
      // Promoted by hand in BullMQ: the retry runs now, as jobwire's next try.
      await delayed?.promote();
      const done = await t.producer.wait(job.id, { timeoutMs: 30_000 });
      expect(done).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
      await until(async () => (await t.queue.getJobState(job.id)) === 'completed', 30_000, 'BullMQ to say completed');
      expect((await t.queue.getJob(job.id))?.returnvalue).toEqual({ attempt: 2 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)('a job added with queue.add() runs as a jobwire job when its name is a plugin and its data valid input; otherwise it fails with a clear reason', async () => {
    const t = await setup();
    try {
      const added = await t.queue.add('flaky', { key: 'by-hand', failures: 0 });
      await until(async () => (await t.queue.getJobState(added.id!)) === 'completed', 30_000, 'the added job to complete');
      const completed = await t.queue.getJob(added.id!);
      expect(completed?.returnvalue).toEqual({ attempt: 1 });
      expect(t.fx.runs).toContain('by-hand');
      const id = (completed?.data as { jobwire: { id: string } }).jobwire.id;
      expect(await t.producer.get(id)).toMatchObject({ status: 'completed', plugin: 'flaky', input: { key: 'by-hand', failures: 0 }, metadata: { bullmq: { jobId: added.id } } });
      expect((await t.producer.list()).jobs.map((job) => job.id)).toContain(id);
      expect(await t.queue.getJob(id)).toBeUndefined(); // its BullMQ job is the one added by hand: adopting it added no second one

      const unknown = await t.queue.add('no-such-plugin', { key: 'x' });
      const invalid = await t.queue.add('flaky', { key: 42 });
      await until(async () => (await t.queue.getJobState(unknown.id!)) === 'failed' && (await t.queue.getJobState(invalid.id!)) === 'failed', 30_000, 'the invalid jobs to fail');
      expect((await t.queue.getJob(unknown.id!))?.failedReason).toMatch(/^Not a jobwire job: .*no-such-plugin/);
      expect((await t.queue.getJob(invalid.id!))?.failedReason).toMatch(/^Not a jobwire job: /);
      expect(t.fx.runs).toEqual(['by-hand']);
    } finally {
      await t.close();
    }
  }, 60_000);
});
