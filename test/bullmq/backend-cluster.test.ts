import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { JobTracker } from '../../src/index.js';
import { createFixturePlugins, testJobBackend } from '../../src/testing/index.js';
import { startPrivateCluster } from '../helpers/redis-cluster.js';

const cluster = await startPrivateCluster();
if (typeof cluster === 'string') console.warn(`SKIPPED: BullMQ backend on a Redis Cluster — ${cluster}`);
const nodes = typeof cluster === 'string' ? [] : cluster.nodes;

afterAll(async () => {
  if (typeof cluster !== 'string') await cluster.dispose();
});

let queue = 0;
let queueName = '';
let prefix = '';

if (typeof cluster !== 'string') {
  // Each test's queue has a hash tag of its own: the queues spread over the three nodes.
  await testJobBackend('bullmq (redis cluster)', {
    backend: () => {
      queueName = `cluster-${++queue}`;
      prefix = `{jw${queue}}`;
      return new BullMQBackend({ connection: { cluster: nodes }, queueName, prefix, role: 'both' });
    },
    observer: () => new BullMQBackend({ connection: { cluster: nodes }, queueName, prefix, role: 'producer' }),
  });
}

describe.runIf(typeof cluster !== 'string')('BullMQ backend on a Redis Cluster: keys', () => {
  it('one queue’s keys, BullMQ’s and jobwire’s, sit in one slot; queues with other hash tags spread over the nodes', async () => {
    const admin = new Cluster(nodes);
    const trackers: JobTracker[] = [];
    try {
      const slots = new Set<number>();
      const holders = new Set<number>();
      for (const tag of ['a', 'b', 'c', 'd', 'e', 'f']) {
        const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, backend: new BullMQBackend({ connection: { cluster: nodes }, queueName: 'keys', prefix: `{keys-${tag}}`, role: 'both' }) });
        trackers.push(tracker);
        const job = await tracker.submit('echo', { text: tag }, { tenantId: 't', idempotencyKey: `k-${tag}` });
        expect(await tracker.wait(job.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', result: { echo: tag } });
        // Every key of the queue, read from each master: on one node, in one slot.
        const found: { key: string; node: number }[] = [];
        for (const [n, node] of admin.nodes('master').entries()) {
          for (const key of await node.keys(`{keys-${tag}}:*`)) found.push({ key, node: n });
        }
        expect(found.some(({ key }) => key.includes(':jw:job:'))).toBe(true);
        expect(found.some(({ key }) => key.includes(':jw:idem:'))).toBe(true);
        expect(found.some(({ key }) => key.includes(':jw:index:t:'))).toBe(true);
        expect(found.some(({ key }) => !key.includes(':jw:'))).toBe(true); // BullMQ's own
        expect(new Set(found.map(({ node }) => node)).size).toBe(1);
        holders.add(found[0]!.node);
        const keySlots = new Set(await Promise.all(found.map(({ key }) => admin.cluster('KEYSLOT', key) as Promise<number>)));
        expect(keySlots.size).toBe(1);
        slots.add([...keySlots][0]!);
      }
      expect(slots.size).toBe(6);
      expect(holders.size).toBeGreaterThan(1);
    } finally {
      await Promise.all(trackers.map((tracker) => tracker.close({ timeoutMs: 0 })));
      await admin.quit();
    }
  });
});
