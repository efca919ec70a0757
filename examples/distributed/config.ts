/** What every process of the distributed example shares: Redis, the queue, the plugins. */
import { LocalPluginManager } from 'jobwire';
import { BullMQBackend, type BullMQRole } from 'jobwire/bullmq';
import { childProcess, steps } from '../shared/plugins.js';

export const plugins = (): LocalPluginManager => new LocalPluginManager().register(steps).register(childProcess);

export const backend = (role: BullMQRole): BullMQBackend =>
  new BullMQBackend({
    // Redis by default; POSTGRES_URL=postgres://… runs the same on BullMQ's PostgreSQL backend.
    connection: process.env.POSTGRES_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    queueName: process.env.QUEUE_NAME ?? 'jobwire-demo',
    prefix: process.env.REDIS_PREFIX ?? 'jobwire',
    role,
    concurrency: 2,
    stalled: { lockDurationMs: 5_000, stalledIntervalMs: 2_500 },
  });
