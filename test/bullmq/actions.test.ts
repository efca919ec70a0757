import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';
import { createViewPlugins } from './fixtures/view-plugins.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, "BullMQ's actions on jobwire jobs");
let queues = 0;

/** Why jobwire cancels a job whose BullMQ job was removed with BullMQ's tools. */
const VANISHED = /^Removed from its BullMQ queue/;

describe.each(DATABASES)("BullMQ's actions on jobwire jobs on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  /** A tracker running one job at a time on a queue of its own, and a raw BullMQ queue on it. */
  async function setup() {
    const queueName = `${prefix}-actions-${++queues}`; // BullMQ on PostgreSQL keys queues by name alone
    const fx = createViewPlugins();
    const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both', concurrency: 1, reconcileIntervalMs: 200 });
    const tracker = new JobTracker({ plugins: fx.plugins, backend });
    await backend.ready();
    const queue = database.queue(queueName);
    const close = async () => {
      await tracker.close({ timeoutMs: 0 });
      await queue.close();
    };
    /** A `paint` job running (holding the one slot) and `count` more waiting behind it. */
    const busy = async (key: string, count: number) => {
      const running = await tracker.submit('paint', { key });
      await until(async () => (await tracker.get(running.id))?.status === 'running', 30_000, 'the first job to run');
      const waiting = [];
      for (let i = 0; i < count; i++) waiting.push(await tracker.submit('paint', { key: `${key}-${i}` }));
      return { running, waiting };
    };
    return { fx, tracker, queue, busy, close };
  }

  it.skipIf(!database.up)("a waiting job removed with BullMQ's remove() is cancelled in jobwire, saying why", async () => {
    const t = await setup();
    try {
      const { running, waiting } = await t.busy('r', 2);
      const [removed, kept] = waiting as [(typeof waiting)[0], (typeof waiting)[0]];
      await t.queue.remove(removed.id);
      await until(async () => (await t.tracker.get(removed.id))?.status === 'cancelled', 30_000, 'the removed job to be cancelled');
      expect((await t.tracker.get(removed.id))?.error).toMatchObject({ code: 'CANCELLED', message: expect.stringMatching(VANISHED) });
      t.fx.open('r');
      t.fx.open('r-1');
      expect((await t.tracker.wait(running.id, { timeoutMs: 30_000 })).status).toBe('completed');
      expect((await t.tracker.wait(kept.id, { timeoutMs: 30_000 })).status).toBe('completed');
      expect(t.fx.runs).not.toContain('r-0');
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)("waiting jobs cleaned with BullMQ's clean() are cancelled in jobwire, saying why", async () => {
    const t = await setup();
    try {
      const { running, waiting } = await t.busy('c', 2);
      const cleaned = await t.queue.clean(0, 100, 'prioritized'); // where waiting jobwire jobs are (see docs/scaling.md, Priorities)
      expect(cleaned).toHaveLength(2);
      for (const job of waiting) await until(async () => (await t.tracker.get(job.id))?.status === 'cancelled', 30_000, 'a cleaned job to be cancelled');
      expect((await t.tracker.get(waiting[0]!.id))?.error?.message).toMatch(VANISHED);
      t.fx.open('c');
      expect((await t.tracker.wait(running.id, { timeoutMs: 30_000 })).status).toBe('completed');
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)('after obliterate({ force: true }) no job stays queued: the waiting ones are cancelled, the running one ends in jobwire', async () => {
    const t = await setup();
    try {
      const { running, waiting } = await t.busy('o', 2);
      await t.queue.obliterate({ force: true });
      for (const job of waiting) await until(async () => (await t.tracker.get(job.id))?.status === 'cancelled', 30_000, 'an obliterated job to be cancelled');
      expect((await t.tracker.get(waiting[1]!.id))?.error?.message).toMatch(VANISHED);
      t.fx.open('o');
      expect((await t.tracker.wait(running.id, { timeoutMs: 30_000 })).status).toBe('completed');
      expect((await t.tracker.list({ status: 'queued' })).jobs).toEqual([]);
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)("BullMQ's retry of a job jobwire failed is refused, saying why: the plugin does not run, both still say failed", async () => {
    const t = await setup();
    try {
      const job = await t.tracker.submit('crash', { message: 'no paint' });
      await t.tracker.wait(job.id, { timeoutMs: 30_000 });
      await until(async () => (await t.queue.getJobState(job.id)) === 'failed', 30_000, 'BullMQ to say failed');
      const before = (await t.tracker.get(job.id))!;
      await (await t.queue.getJob(job.id))!.retry('failed');
      await until(async () => (await t.queue.getJob(job.id))?.failedReason?.startsWith("BullMQ's retry is refused") === true, 30_000, 'the retry to be refused');
      expect(await t.queue.getJobState(job.id)).toBe('failed');
      expect((await t.queue.getJob(job.id))?.failedReason).toContain('no paint');
      expect(t.fx.runs).toEqual(['no paint']); // the plugin ran once
      expect(await t.tracker.get(job.id)).toEqual(before);
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)("BullMQ's retry of a completed job is refused, saying why in the job's log: its result stands, the plugin does not run", async () => {
    const t = await setup();
    try {
      const job = await t.tracker.submit('flaky', { key: 'once', failures: 0 });
      await t.tracker.wait(job.id, { timeoutMs: 30_000 });
      await until(async () => (await t.queue.getJobState(job.id)) === 'completed', 30_000, 'BullMQ to say completed');
      await (await t.queue.getJob(job.id))!.retry('completed');
      await until(async () => (await t.queue.getJobLogs(job.id)).logs.some((line) => line.startsWith("BullMQ's retry is refused")), 30_000, 'the refusal to be logged');
      await until(async () => (await t.queue.getJobState(job.id)) === 'completed', 30_000, 'BullMQ to say completed again');
      expect((await t.queue.getJob(job.id))?.returnvalue).toEqual({ attempt: 1 });
      expect(t.fx.runs).toEqual(['once']);
      expect(await t.tracker.get(job.id)).toMatchObject({ status: 'completed', attempt: 1 });
    } finally {
      await t.close();
    }
  }, 60_000);

  it.skipIf(!database.up)("a copy of a job's BullMQ entry (Bull Board's Duplicate) is refused, saying why; data edited in BullMQ (Update data) is not what runs", async () => {
    const t = await setup();
    try {
      const { running, waiting } = await t.busy('d', 1);
      const entry = (await t.queue.getJob(waiting[0]!.id))!;
      await entry.updateData({ ...(entry.data as object), input: { key: 'edited' } });
      const copy = await t.queue.add(entry.name, entry.data);
      t.fx.open('d');
      t.fx.open('d-0');
      t.fx.open('edited');
      await until(async () => (await t.queue.getJobState(copy.id!)) === 'failed', 30_000, 'the copy to fail');
      expect((await t.queue.getJob(copy.id!))?.failedReason).toBe(`A copy of jobwire job ${waiting[0]!.id} is not run: tracker.retry(id) submits a failed or cancelled job again, and tracker.submit() a new one`);
      expect(await t.tracker.wait(waiting[0]!.id, { timeoutMs: 30_000 })).toMatchObject({ status: 'completed', input: { key: 'd-0' }, result: { painted: 'd-0' } });
      await t.tracker.wait(running.id, { timeoutMs: 30_000 });
      expect(t.fx.runs).toEqual(['d', 'd-0']);
      expect((await t.tracker.list()).jobs).toHaveLength(2);
    } finally {
      await t.close();
    }
  }, 60_000);
});
