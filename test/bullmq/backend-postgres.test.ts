import { describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins, testJobBackend } from '../../src/testing/index.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';

const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ-on-PostgreSQL backend tests — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = `jwtest${process.pid}${Date.now().toString(36)}`;
let queue = 0;
let queueName = '';

if (postgresUp) {
  await testJobBackend('bullmq (postgres)', {
    backend: () => {
      queueName = `${prefix}-conformance-${++queue}`; // BullMQ on PostgreSQL keys queues by name alone
      return new BullMQBackend({ connection: POSTGRES_URL, queueName, prefix, role: 'both', stalled: { stalledIntervalMs: 1_000, lockDurationMs: 5_000 } });
    },
    observer: () => new BullMQBackend({ connection: POSTGRES_URL, queueName, prefix, role: 'producer' }),
    cleanup: () => deleteQueues(prefix),
  });
}

describe.skipIf(!postgresUp)('BullMQ backend on PostgreSQL: concurrent submits', () => {
  it('the same idempotency key submitted at once from two trackers gives one job; maxQueued holds', async () => {
    const name = `${prefix}-race`;
    const fx = createFixturePlugins();
    const make = (): JobTracker => new JobTracker({ plugins: fx.plugins, maxQueued: 3, backend: new BullMQBackend({ connection: POSTGRES_URL, queueName: name, prefix, role: 'producer' }) });
    const [a, b] = [make(), make()];
    try {
      const same = await Promise.all(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).submit('gate', { key: 'x' }, { idempotencyKey: 'once', tenantId: 't' })));
      expect(new Set(same.map((job) => job.id)).size).toBe(1);
      const results = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).submit('gate', { key: String(i) })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(2); // 1 already queued + 2 = maxQueued 3
      expect(results.filter((r) => r.status === 'rejected').every((r) => ((r as PromiseRejectedResult).reason as { code?: string }).code === 'QUEUE_FULL')).toBe(true);
    } finally {
      await Promise.all([a.close({ timeoutMs: 0 }), b.close({ timeoutMs: 0 })]);
      await deleteQueues(prefix);
    }
  });
});
