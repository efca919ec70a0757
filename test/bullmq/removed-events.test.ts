import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import type { BackendHost } from '../../src/backend/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';
import { createViewPlugins } from './fixtures/view-plugins.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, "BullMQ's removed events");
let queues = 0;

/** A backend whose dispatcher reports each job its `removed` events (or the reconciler) say vanished. */
function watchedBackend(backend: BullMQBackend): string[] {
  const vanished: string[] = [];
  const open = backend.open.bind(backend);
  backend.open = async (host: BackendHost) => {
    const drivers = await open(host);
    const { dispatcher } = drivers;
    const start = dispatcher.start.bind(dispatcher);
    dispatcher.start = (handlers) => start({ ...handlers, vanished: (id, reason) => (vanished.push(id), handlers.vanished(id, reason)) });
    return drivers;
  };
  return vanished;
}

// BullMQ on PostgreSQL sends no `removed` event for remove() (its reconciler finds those jobs: see
// actions.test.ts), so these run on Redis only.
describe.each(DATABASES.filter((database) => database.name === 'Redis'))("BullMQ's removed events on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)("a removal this process made (a cancel) is not read back from the store; one made with BullMQ's tools cancels the job", async () => {
    const queueName = `${prefix}-removed-${++queues}`;
    const fx = createViewPlugins();
    const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both', concurrency: 1, reconcileIntervalMs: 60_000 });
    const vanished = watchedBackend(backend);
    const tracker = new JobTracker({ plugins: fx.plugins, backend });
    const queue = database.queue(queueName);
    try {
      await backend.ready();
      const running = await tracker.submit('paint', { key: 'busy' });
      await until(async () => (await tracker.get(running.id))?.status === 'running', 30_000, 'the first job to run');
      const cancelled = await tracker.submit('paint', { key: 'a' });
      const removed = await tracker.submit('paint', { key: 'b' });
      await tracker.cancel(cancelled.id);
      expect(await queue.getJobState(cancelled.id)).toBe('unknown');
      await queue.remove(removed.id); // its event comes after the cancel's
      await until(async () => (await tracker.get(removed.id))?.status === 'cancelled', 30_000, 'the removed job to be cancelled');
      expect(vanished).toEqual([removed.id]);
      fx.open('busy');
      await tracker.wait(running.id, { timeoutMs: 30_000 });
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await queue.close();
    }
  }, 60_000);
});
