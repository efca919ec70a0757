import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ close hand-out test — no Redis answers on 127.0.0.1:6379');

describe.skipIf(!redisUp)('BullMQ worker: close() with a job fetched and waiting for a slot', () => {
  const prefix = uniquePrefix();
  afterAll(() => deleteKeys(prefix));

  it('the job is handed back to the queue, never claimed by the closing tracker; another worker runs it', async () => {
    const queueName = 'handout';
    const backend = (role: 'both' | 'producer' = 'both'): BullMQBackend => new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role, concurrency: 1 });
    const fx = createFixturePlugins();
    const closing = new JobTracker({ plugins: fx.plugins, backend: backend() });
    // `solo` (its own cap) has a queue of its own, so its worker fetches a job while `gate` holds the one slot.
    const soloQueue = new Queue(`${queueName}.solo`, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    const nextFx = createFixturePlugins();
    const observer = new JobTracker({ plugins: createFixturePlugins().plugins, backend: backend('producer') });
    let next: JobTracker | undefined;
    try {
      const first = await closing.submit('gate', { key: 'first' });
      await until(() => fx.started.includes('first'), 20_000, 'the first job to run');
      const waiting = await closing.submit('solo', { key: 'waiting' });
      await until(async () => (await soloQueue.getJobState(waiting.id)) === 'active', 20_000, 'the solo job to be fetched (it waits for the slot)');
      const closed = closing.close({ timeoutMs: 30_000 });
      fx.open('first'); // its slot frees during the grace: before the fix, the waiting job took it
      await closed;
      expect(fx.started).toEqual(['first']);
      expect((await observer.get(first.id))?.status).toBe('completed');
      expect((await observer.get(waiting.id))?.status).toBe('queued');
      expect(['waiting', 'prioritized']).toContain(await soloQueue.getJobState(waiting.id)); // jobwire jobs carry a priority
      // Another worker, started now, runs it.
      nextFx.open('waiting');
      next = new JobTracker({ plugins: nextFx.plugins, backend: backend() });
      expect((await next.wait(waiting.id, { timeoutMs: 30_000 })).status).toBe('completed');
      expect(nextFx.started).toEqual(['waiting']);
    } finally {
      fx.open('waiting');
      nextFx.open('waiting');
      await closing.close({ timeoutMs: 0 });
      await next?.close({ timeoutMs: 0 });
      await observer.close({ timeoutMs: 0 });
      await soloQueue.close();
    }
  }, 90_000);

  it('the job goes back as soon as close() starts, while the running job still has its grace', async () => {
    const queueName = 'handout-early';
    const backend = new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role: 'both', concurrency: 1 });
    const fx = createFixturePlugins();
    const closing = new JobTracker({ plugins: fx.plugins, backend });
    const soloQueue = new Queue(`${queueName}.solo`, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
    try {
      await closing.submit('gate', { key: 'long' });
      await until(() => fx.started.includes('long'), 20_000, 'the first job to run');
      const waiting = await closing.submit('solo', { key: 'waiting' });
      await until(async () => (await soloQueue.getJobState(waiting.id)) === 'active', 20_000, 'the solo job to be fetched (it waits for the slot)');
      const closed = closing.close({ timeoutMs: 60_000 });
      // Back in its queue while the first job still runs: its connection is surely open.
      await until(async () => ['waiting', 'prioritized'].includes(await soloQueue.getJobState(waiting.id)), 20_000, 'the waiting job to go back to its queue');
      expect(fx.aborted.has('long')).toBe(false);
      fx.open('long');
      await closed;
      expect(fx.started).toEqual(['long']);
    } finally {
      fx.open('long');
      fx.open('waiting');
      await closing.close({ timeoutMs: 0 });
      await soloQueue.close();
    }
  }, 90_000);
});
