import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { collect, until } from '../helpers/deferred.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { expectCancelReachesRunAfterGap } from './cancel-in-gap.js';
import { startGateProxy } from './gate-proxy.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: Redis drop fault tests — no Redis answers on 127.0.0.1:6379');

/** `CLIENT LIST` as records of its fields. */
function clients(list: string): Record<string, string>[] {
  return list
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => Object.fromEntries(line.trim().split(' ').map((field) => [field.slice(0, field.indexOf('=')), field.slice(field.indexOf('=') + 1)])));
}

describe.skipIf(!redisUp)('faults: the Redis subscriber connection dropped (CLIENT KILL)', () => {
  const prefix = uniquePrefix();
  afterAll(() => deleteKeys(prefix));

  it('a cancel sent while the subscriber reconnects reaches the running plugin once it is back, and frees its slot', async () => {
    // The worker reaches Redis through a proxy that can hold its reconnect: the cancel is surely
    // published while nothing of the worker is subscribed, however slow the machine.
    const target = new URL(REDIS_URL);
    const gate = await startGateProxy({ host: target.hostname, port: Number(target.port || 6379) });
    const fx = createFixturePlugins();
    const worker = new JobTracker({ plugins: fx.plugins, backend: new BullMQBackend({ connection: `redis://127.0.0.1:${gate.port}`, queueName: 'gap', prefix, role: 'both', concurrency: 1 }) });
    const producer = new JobTracker({ plugins: createFixturePlugins().plugins, backend: new BullMQBackend({ connection: REDIS_URL, queueName: 'gap', prefix, role: 'producer' }) });
    const admin = new Redis(REDIS_URL);
    /** The worker's subscriber connections, as Redis lists them. */
    const subscribers = async (): Promise<Record<string, string>[]> => {
      const ports = gate.upstreamPorts();
      return clients((await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string).filter((client) => ports.has(Number(client.addr?.split(':').at(-1))));
    };
    try {
      const job = await worker.submit('gate', { key: 'gap' });
      await until(() => fx.started.includes('gap'), 20_000, 'the job to run');
      // Followed in the worker's process across the gap: the events it misses are read from the log on resync.
      const followed = collect(worker.events(job.id));
      const waited = worker.wait(job.id, { timeoutMs: 60_000 });
      const [subscriber, ...others] = await subscribers();
      expect(subscriber).toBeDefined();
      expect(others).toEqual([]);
      gate.hold();
      expect(await admin.call('CLIENT', 'KILL', 'ID', subscriber!.id!)).toBe(1);
      await until(() => gate.waiting > 0, 20_000, 'the subscriber to try to reconnect');
      expect(await subscribers()).toEqual([]);
      expect((await producer.cancel(job.id, 'during the gap')).status).toBe('cancelled');
      expect(fx.aborted.has('gap')).toBe(false);
      await expectCancelReachesRunAfterGap({ gate, fx, worker, producer, jobId: job.id, followed, waited });
    } finally {
      gate.release();
      fx.open('gap');
      admin.disconnect();
      await producer.close({ timeoutMs: 0 });
      await worker.close({ timeoutMs: 0 });
      await gate.dispose();
    }
  }, 120_000);
});
