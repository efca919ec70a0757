import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, silentLogger } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { READ_PACE_MS } from '../../src/bullmq/queue-events-reader.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';

const prefix = uniquePrefix();
const DATABASES = await bullmqDatabases(prefix, "reads of BullMQ's queue events");

/** Reads of a BullMQ queue's events this process sent: `XREAD` on Redis, reads of BullMQ's event table on PostgreSQL. */
let eventReads = 0;
const sendCommand = Redis.prototype.sendCommand;
Redis.prototype.sendCommand = function (this: Redis, ...args: Parameters<typeof sendCommand>) {
  if ((args[0] as { name: string }).name.toLowerCase() === 'xread') eventReads++;
  return sendCommand.apply(this, args);
} as typeof sendCommand;
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
  if (typeof text === 'string' && /\bFROM\s+event\s+WHERE\s+queue\b/.test(text)) eventReads++;
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
afterAll(() => {
  Redis.prototype.sendCommand = sendCommand;
  pg.Client.prototype.query = query;
});

const noop = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: async () => ({ ok: true }) });

describe.each(DATABASES)("reads of BullMQ's queue events on $name", (database) => {
  afterAll(async () => {
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)('a worker reads its queue events in batches: its reads follow the time its jobs take, not their number', async () => {
    const backend = new BullMQBackend({ connection: database.url, queueName: `${prefix}-reads`, prefix, role: 'both', concurrency: 5 });
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(noop), backend, logger: silentLogger });
    try {
      await backend.ready();
      let completed = 0;
      tracker.on('job:completed', () => void completed++);
      const jobs = 100;
      const from = eventReads;
      const start = performance.now();
      for (let i = 0; i < jobs; i++) await tracker.submit('noop', { i }); // one at a time: the queue goes quiet between jobs
      await until(() => completed === jobs, 60_000, 'every job to complete');
      const took = performance.now() - start;
      // Each job writes several events (added, waiting, active, completed…). A reader that reads as
      // soon as there is something read once a job or more (on PostgreSQL, three times a job); this
      // one reads, then waits READ_PACE_MS: its reads follow the time the jobs took, not their
      // number — plus a read for each full batch (100 events, on PostgreSQL; a job writes fewer than 8).
      const reads = eventReads - from;
      expect(reads).toBeLessThanOrEqual(Math.ceil(took / READ_PACE_MS) + Math.ceil((jobs * 8) / 100) + 3);
    } finally {
      await tracker.close({ timeoutMs: 1_000 });
    }
  }, 90_000);
});
