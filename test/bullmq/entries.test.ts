import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { definePlugin } from '../../src/plugin-manager/define-plugin.js';
import { LocalPluginManager } from '../../src/plugin-manager/local-plugin-manager.js';
import { keyedDeferreds, until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, "where jobwire looks for a job's BullMQ entry");
let queues = 0;

/** Gates of the `hold` plugin, by key: shared by every plugin manager of this file. */
const gate = keyedDeferreds();

/** Plugins with `hold` (waits for its key's gate, returns `{ held: key }`), capped at `cap` when given. */
function plugins(cap?: number): LocalPluginManager {
  return new LocalPluginManager().register(
    definePlugin({
      name: 'hold',
      input: z.object({ key: z.string() }),
      ...(cap === undefined ? {} : { concurrency: cap }),
      async run(input) {
        await gate(input.key).promise;
        return { held: input.key };
      },
    }),
  );
}

describe.each(DATABASES)("where jobwire looks for a job's BullMQ entry on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  /** A gate key of this database's run (the gates outlive a run). */
  const k = (key: string): string => `${database.name}-${key}`;
  const trackers: JobTracker[] = [];
  async function tracker(queueName: string, role: 'producer' | 'worker' | 'both', cap?: number): Promise<JobTracker> {
    const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role, concurrency: 1, reconcileIntervalMs: 200 });
    const made = new JobTracker({ plugins: plugins(cap), backend });
    trackers.push(made);
    await backend.ready();
    return made;
  }
  async function closeAll(): Promise<void> {
    await Promise.all(trackers.splice(0).map((made) => made.close({ timeoutMs: 0 })));
  }

  it.skipIf(!database.up)("a job whose metadata names another BullMQ entry cannot remove it: cancelling it removes its own entry only", async () => {
    const queueName = `${prefix}-entries-${++queues}`;
    const t = await tracker(queueName, 'both');
    const queue = database.queue(queueName);
    const other = database.queue(`${queueName}-other`);
    try {
      const running = await t.submit('hold', { key: k('m-run') });
      await until(async () => (await t.get(running.id))?.status === 'running', 30_000, 'the first job to run');
      const victim = await t.submit('hold', { key: k('m-victim') });
      const foreign = await other.add('anything', { id: 'x' });
      const named = await t.submit('hold', { key: k('m-a') }, { metadata: { bullmq: { queue: queueName, jobId: victim.id } } });
      const elsewhere = await t.submit('hold', { key: k('m-b') }, { metadata: { bullmq: { queue: `${queueName}-other`, jobId: foreign.id } } });
      await t.cancel(named.id);
      await t.cancel(elsewhere.id);
      expect(await queue.getJobState(named.id)).toBe('unknown');
      expect(await queue.getJobState(elsewhere.id)).toBe('unknown');
      expect(await queue.getJobState(victim.id)).toBe('prioritized');
      expect(await other.getJobState(foreign.id!)).toBe('waiting');
      gate(k('m-run')).resolve();
      gate(k('m-victim')).resolve();
      expect(await t.wait(victim.id, { timeoutMs: 30_000 })).toMatchObject({ status: 'completed', result: { held: k('m-victim') } });
    } finally {
      await closeAll();
      await Promise.all([queue.close(), other.obliterate({ force: true }).then(() => other.close())]);
    }
  }, 60_000);

  it.skipIf(!database.up)("a job queued while its plugin had a cap still runs once a rolling deploy removed the cap: not cancelled, its plugin's queue still served", async () => {
    const queueName = `${prefix}-entries-${++queues}`;
    const producer = await tracker(queueName, 'producer', 1);
    const job = await producer.submit('hold', { key: k('uncapped') });
    const queue = database.queue(`${queueName}.hold`);
    try {
      expect(await queue.getJobState(job.id)).toBe('prioritized');
      gate(k('uncapped')).resolve();
      await tracker(queueName, 'worker'); // the plugin has no cap there
      expect(await producer.wait(job.id, { timeoutMs: 30_000 })).toMatchObject({ status: 'completed', result: { held: k('uncapped') } });
    } finally {
      await closeAll();
      await queue.close();
    }
  }, 60_000);

  it.skipIf(!database.up)('a job queued before its plugin had a cap is found in the main queue: not cancelled while it waits there', async () => {
    const queueName = `${prefix}-entries-${++queues}`;
    const producer = await tracker(queueName, 'producer');
    const queue = database.queue(queueName);
    try {
      const running = await producer.submit('hold', { key: k('c-run') });
      await tracker(queueName, 'worker', 1); // the plugin has a cap there; one slot
      await until(async () => (await producer.get(running.id))?.status === 'running', 30_000, 'the first job to run');
      const waiting = await producer.submit('hold', { key: k('c-wait') });
      // A job cleaned from BullMQ: once the reconciler cancelled it, it has had its look at the waiting job too.
      const marker = await producer.submit('hold', { key: k('c-marker') }, { delayMs: 600_000 });
      expect(await queue.clean(0, 10, 'delayed')).toEqual([marker.id]);
      await until(async () => (await producer.get(marker.id))?.status === 'cancelled', 30_000, 'the cleaned job to be cancelled');
      expect((await producer.get(waiting.id))?.status).toBe('queued');
      gate(k('c-run')).resolve();
      gate(k('c-wait')).resolve();
      expect((await producer.wait(waiting.id, { timeoutMs: 30_000 })).status).toBe('completed');
    } finally {
      await closeAll();
      await queue.close();
    }
  }, 60_000);
});
