import type { Job } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker, type Logger } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { TICK_JOB_NAME } from '../../src/bullmq/bullmq-scheduler.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, 'BullMQ scheduler tests');

/** A logger keeping its warnings. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = (): void => undefined;
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (_obj: object, msg?: string) => void warnings.push(msg ?? '') };
}

describe.each(DATABASES)('BullMQ schedules on $name', (database) => {
  let queues = 0;
  const queueName = (): string => `${prefix}-schedules-${database.name}-${++queues}`; // BullMQ on PostgreSQL keys queues by name alone
  const backend = (name: string, role: 'producer' | 'worker' | 'both'): BullMQBackend => new BullMQBackend({ connection: database.url, queueName: name, prefix, role });

  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)('a producer keeps schedules but never ticks; upserting the same schedule again keeps its next tick; a worker then ticks', async () => {
    const name = queueName();
    const producer = new JobTracker({ plugins: createFixturePlugins().plugins, backend: backend(name, 'producer') });
    const queue = database.queue(name);
    let worker: JobTracker | undefined;
    try {
      await producer.schedule('far', { cron: '0 0 1 1 *', tz: 'UTC', plugin: 'echo', input: { text: 'new year' } });
      await producer.schedule('soon', { everyMs: 60_000, plugin: 'echo', input: { text: 'minute' } });
      const before = await producer.schedules();
      expect(before.map((s) => s.key)).toEqual(['far', 'soon']);
      expect(before[0]).toMatchObject({ cron: '0 0 1 1 *', tz: 'UTC', plugin: 'echo' });
      // The same schedules again, from another process: nothing changes (no extra tick, same next one).
      const again = new JobTracker({ plugins: createFixturePlugins().plugins, backend: backend(name, 'producer') });
      try {
        await again.schedule('far', { cron: '0 0 1 1 *', tz: 'UTC', plugin: 'echo', input: { text: 'new year' } });
        await again.schedule('soon', { everyMs: 60_000, plugin: 'echo', input: { text: 'minute' } });
        expect(await again.schedules()).toEqual(before);
      } finally {
        await again.close();
      }
      // `soon` ticked at once, but no process runs jobs: its tick job waits in BullMQ, and no job was submitted.
      const ticks = async (): Promise<Job[]> => (await queue.getJobs(['waiting', 'prioritized', 'active', 'delayed'])).filter((job) => job.name === TICK_JOB_NAME);
      await until(async () => (await ticks()).length === 2, 20_000, 'both schedules to have their next tick job');
      expect((await producer.list()).jobs).toEqual([]);
      // A process that runs jobs ticks it: one job, for the tick that was due.
      worker = new JobTracker({ plugins: createFixturePlugins().plugins, backend: backend(name, 'worker') });
      await until(async () => (await producer.list()).jobs.length === 1, 30_000, 'the due tick to submit its job');
      const [job] = (await producer.list()).jobs;
      expect(job).toMatchObject({ plugin: 'echo', scheduleKey: 'soon', input: { text: 'minute' } });
      expect((await producer.wait(job!.id, { timeoutMs: 30_000 })).result).toEqual({ echo: 'minute' });
      // Removal, from the producer: gone from the list, and its tick job with it.
      expect(await producer.unschedule('far')).toBe(true);
      expect((await producer.schedules()).map((s) => s.key)).toEqual(['soon']);
      expect((await ticks()).map((tick) => tick.repeatJobKey)).toEqual(['soon']);
      expect(await producer.unschedule('far')).toBe(false);
    } finally {
      await producer.close();
      await worker?.close();
      await queue.close();
    }
  }, 90_000);

  it.skipIf(!database.up)('a tick whose job cannot be submitted is tried again by BullMQ, for the same tick', async () => {
    const name = queueName();
    const producer = new JobTracker({ plugins: createFixturePlugins().plugins, backend: backend(name, 'producer') });
    const logger = recordingLogger();
    const fx = createFixturePlugins();
    fx.plugins.disable('echo'); // the worker's tick fails PLUGIN_DISABLED
    const worker = new JobTracker({ plugins: fx.plugins, logger, backend: backend(name, 'worker') });
    const queue = database.queue(name);
    try {
      await producer.schedule('retried', { everyMs: 3_600_000, plugin: 'echo', input: { text: 'at last' } });
      await until(() => logger.warnings.some((w) => w.includes('a tick of the schedule "retried" failed (try 1 of 5)')), 30_000, 'the first try of the tick to fail');
      // The failed try is recorded on the tick job once BullMQ has moved it to wait for its retry.
      let failedTick: Awaited<ReturnType<typeof queue.getJobs>>[number] | undefined;
      await until(async () => {
        failedTick = (await queue.getJobs(['waiting', 'prioritized', 'active', 'delayed'])).find((job) => job.name === TICK_JOB_NAME && job.attemptsMade >= 1);
        return failedTick !== undefined;
      }, 30_000, 'the failed tick to be recorded as tried');
      const due = Number(failedTick!.id!.slice(failedTick!.id!.lastIndexOf(':') + 1));
      expect((await producer.list()).jobs).toEqual([]);
      fx.plugins.enable('echo');
      await until(async () => (await producer.list()).jobs.length === 1, 30_000, 'a later try of the tick to submit its job');
      const [job] = (await producer.list()).jobs;
      expect(job).toMatchObject({ scheduleKey: 'retried' });
      // Submitted for the tick that failed: its idempotency key names that tick's time.
      const same = await producer.submit('echo', { text: 'at last' }, { idempotencyKey: `jobwire:schedule:retried:${due}` });
      expect(same.id).toBe(job!.id);
    } finally {
      await producer.unschedule('retried').catch(() => undefined);
      await producer.close();
      await worker.close();
      await queue.close();
    }
  }, 90_000);
});
