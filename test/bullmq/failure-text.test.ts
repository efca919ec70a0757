import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { definePlugin } from '../../src/plugin-manager/define-plugin.js';
import { LocalPluginManager } from '../../src/plugin-manager/local-plugin-manager.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, 'failure messages BullMQ records');
let queues = 0;

/** `nul` fails its first try with a message holding a NUL, then returns `{ attempt }`. */
const plugins = new LocalPluginManager().register(
  definePlugin({
    name: 'nul',
    input: z.object({}),
    run(_input, ctx) {
      if (ctx.attempt === 1) throw new Error('bad\u0000byte');
      return { attempt: ctx.attempt };
    },
  }),
);

describe.each(DATABASES)('failure messages BullMQ records on $name', (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)("a failed try whose message holds a NUL waits for its retry in BullMQ's delayed set and is retried", async () => {
    const queueName = `${prefix}-failure-text-${++queues}`;
    const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both', reconcileIntervalMs: 200, stalled: { lockDurationMs: 60_000 } });
    const tracker = new JobTracker({ plugins, backend });
    const queue = database.queue(queueName);
    try {
      await backend.ready();
      const job = await tracker.submit('nul', {}, { attempts: 2, backoff: { type: 'fixed', delayMs: 600_000 } });
      await until(async () => (await queue.getJobState(job.id)) === 'delayed', 30_000, "the retry to wait in BullMQ's delayed set");
      const delayed = await queue.getJob(job.id);
      expect(delayed).toMatchObject({ attemptsMade: 1, failedReason: expect.stringMatching(/^bad.byte$/) });
      await delayed?.promote();
      expect(await tracker.wait(job.id, { timeoutMs: 30_000 })).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await queue.close();
    }
  }, 60_000);
});
