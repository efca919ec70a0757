import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, 'BullMQ delayed-set tests');

describe.each(DATABASES)('BullMQ on $name: jobs that wait for a time', (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)("a delayed job and a retry waiting for its backoff sit in BullMQ's delayed set, counted by stats().delayed; a cancel removes them", async () => {
    const queueName = `${prefix}-delayed-${database.name}`; // BullMQ on PostgreSQL keys queues by name alone
    const fx = createFixturePlugins();
    const tracker = new JobTracker({ plugins: fx.plugins, backend: new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both' }) });
    const queue = database.queue(queueName);
    try {
      const delayed = await tracker.submit('echo', { text: 'later' }, { delayMs: 600_000 });
      const retrying = await tracker.submit('flaky', { key: 'retry', failures: 1 }, { attempts: 2, backoff: { type: 'fixed', delayMs: 600_000 } });
      await until(async () => (await tracker.get(retrying.id))?.attempt === 2, 30_000, 'the first try to fail and its retry to wait');
      await until(async () => (await queue.getJobState(retrying.id)) === 'delayed', 30_000, "the retry to wait in BullMQ's delayed set");
      expect(await queue.getJobState(delayed.id)).toBe('delayed');
      const job = await queue.getJob(retrying.id);
      expect(job?.delay).toBeGreaterThan(500_000); // it waits for its backoff there, not in a timer here
      const stats = await tracker.stats();
      expect(stats).toMatchObject({ queued: 2, delayed: 2, running: 0 });
      expect(fx.tries('retry')).toEqual([1]);
      // A cancel takes each out of BullMQ's delayed set.
      await tracker.cancel(delayed.id);
      await tracker.cancel(retrying.id);
      await until(async () => (await queue.getDelayedCount()) === 0, 30_000, "the cancelled jobs to leave BullMQ's delayed set");
      expect(await tracker.stats()).toMatchObject({ queued: 0, delayed: 0, cancelled: 2 });
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await queue.close();
    }
  }, 60_000);

  it.skipIf(!database.up)('a delayed job is run once due, and counts as delayed no more', async () => {
    const queueName = `${prefix}-due-${database.name}`;
    const fx = createFixturePlugins();
    const tracker = new JobTracker({ plugins: fx.plugins, backend: new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both' }) });
    try {
      const job = await tracker.submit('echo', { text: 'soon' }, { delayMs: 1_000 });
      expect(job.runAt).toBeDefined();
      const done = await tracker.wait(job.id, { timeoutMs: 30_000 });
      expect(done.status).toBe('completed');
      expect(Date.parse(done.startedAt!)).toBeGreaterThanOrEqual(Date.parse(job.runAt!));
      expect(await tracker.stats()).toMatchObject({ delayed: 0, completed: 1 });
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  }, 60_000);
});
