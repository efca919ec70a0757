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
const DATABASES = await bullmqDatabases(prefix, "a plugin's cap after BullMQ's tools");
let queues = 0;

/** Gates of the `single` plugin, by key. */
const gate = keyedDeferreds();

/** `single`, capped at 1: waits for its key's gate. */
function plugins(): LocalPluginManager {
  return new LocalPluginManager().register(
    definePlugin({
      name: 'single',
      input: z.object({ key: z.string() }),
      concurrency: 1,
      async run(input) {
        await gate(input.key).promise;
        return { done: input.key };
      },
    }),
  );
}

describe.each(DATABASES)("a plugin's cap after BullMQ's tools on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)("holds over two workers after its queue was obliterated (which deletes the cap BullMQ keeps): two of its jobs never run at once", async () => {
    const queueName = `${prefix}-caps-${++queues}`;
    const k = (key: string): string => `${database.name}-${key}`;
    const trackers = [0, 1].map(() => {
      const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both', concurrency: 2, reconcileIntervalMs: 200 });
      return { backend, tracker: new JobTracker({ plugins: plugins(), backend }) };
    });
    const queue = database.queue(`${queueName}.single`);
    try {
      await Promise.all(trackers.map(({ backend }) => backend.ready()));
      expect(await queue.getGlobalConcurrency()).toBe(1);
      await queue.obliterate({ force: true });
      await until(async () => (await queue.getGlobalConcurrency()) === 1, 15_000, 'the cap to be set again');
      const [a, b] = trackers.map(({ tracker }) => tracker) as [JobTracker, JobTracker];
      const jobs = [await a.submit('single', { key: k('one') }), await b.submit('single', { key: k('two') })];
      let running: string[] = [];
      await until(async () => (running = (await Promise.all(jobs.map((job) => a.get(job.id)))).filter((job) => job?.status === 'running').map((job) => job!.id)).length > 0, 30_000, 'a job to run');
      expect(running).toHaveLength(1);
      const counts = await queue.getJobCounts('active', 'waiting', 'prioritized');
      expect(counts.active).toBe(1);
      gate(k('one')).resolve();
      gate(k('two')).resolve();
      const done = await Promise.all(jobs.map((job) => a.wait(job.id, { timeoutMs: 30_000 })));
      done.sort((x, y) => Date.parse(x.startedAt!) - Date.parse(y.startedAt!));
      expect(Date.parse(done[1]!.startedAt!)).toBeGreaterThanOrEqual(Date.parse(done[0]!.finishedAt!));
    } finally {
      await Promise.all(trackers.map(({ tracker }) => tracker.close({ timeoutMs: 0 })));
      await queue.close();
    }
  }, 60_000);
});
