import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: the built jobwire/bullmq on Redis — no Redis answers on 127.0.0.1:6379');

type Root = typeof import('jobwire');
type BullMQ = typeof import('jobwire/bullmq');

const require = createRequire(import.meta.url);
const BUILDS: { name: string; load: () => Promise<[Root, BullMQ]> }[] = [
  { name: 'ESM', load: async () => [await import('jobwire'), await import('jobwire/bullmq')] },
  { name: 'CJS', load: async () => [require('jobwire') as Root, require('jobwire/bullmq') as BullMQ] },
];

const prefix = uniquePrefix();

describe.runIf(redisUp)('the built jobwire/bullmq (dist/) on Redis: its Lua scripts are in the build, nothing read from disk', () => {
  afterAll(() => deleteKeys(prefix));

  it.each(BUILDS)('$name: a job is created, found again by its idempotency key, run, listed and removed', async ({ name, load }) => {
    const [{ JobTracker, LocalPluginManager, definePlugin }, { BullMQBackend }] = await load();
    const { z } = await import('zod');
    const plugins = new LocalPluginManager();
    plugins.register(definePlugin({ name: 'shout', input: z.object({ text: z.string() }), output: z.object({ text: z.string() }), run: async ({ text }) => ({ text: text.toUpperCase() }) }));
    const tracker = new JobTracker({ plugins, backend: new BullMQBackend({ connection: REDIS_URL, queueName: `build-${name}`, prefix, role: 'both' }) });
    try {
      const job = await tracker.submit('shout', { text: 'hi' }, { tenantId: 't', idempotencyKey: 'once' });
      expect((await tracker.submit('shout', { text: 'hi' }, { tenantId: 't', idempotencyKey: 'once' })).id).toBe(job.id);
      expect(await tracker.wait(job.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', result: { text: 'HI' } });
      expect((await tracker.list({ tenantId: 't' })).jobs.map((listed) => listed.id)).toEqual([job.id]);
      expect(await tracker.remove(job.id)).toBe(true);
      expect(await tracker.get(job.id)).toBeUndefined();
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });
});
