/**
 * What every process of the distributed example shares, read from the environment:
 *   QUEUE_NAME    the BullMQ queue; every API and worker process of one deployment uses the same (required
 *                 when api.ts or worker.ts run on their own; start.ts makes up a unique one)
 *   REDIS_URL     the Redis to use (default redis://127.0.0.1:6379)
 *   POSTGRES_URL  run on BullMQ's PostgreSQL backend instead of Redis
 *   REDIS_PREFIX  the Redis key prefix (default jobwire)
 *   RESULTS_DIR   where workers save results (default <tmp>/jobwire-results)
 */
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalPluginManager } from 'jobwire';
import { BullMQBackend, type BullMQRole } from 'jobwire/bullmq';
import { childProcess, steps, tokens, transcribe } from '../shared/plugins.js';

/** The plugins every process registers: `transcribe` and `tokens` stream output written on a worker to every API process. */
export const plugins = (): LocalPluginManager => new LocalPluginManager().register(steps).register(childProcess).register(transcribe).register(tokens);

/** Redis by default; POSTGRES_URL=postgres://… runs the same on BullMQ's PostgreSQL backend. */
export const connection = (): string => process.env.POSTGRES_URL ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export const resultsDir = (): string => process.env.RESULTS_DIR ?? join(tmpdir(), 'jobwire-results');

/**
 * A queue name of this run's own: a fixed default would make every `npm run distributed` on a
 * shared Redis join (and run) everybody else's jobs.
 */
export const uniqueQueueName = (): string => `jobwire-demo-${hostname().replace(/[^A-Za-z0-9-]/g, '-')}-${Math.random().toString(36).slice(2, 8)}`;

/** QUEUE_NAME, which a process started on its own must be given. */
export function queueName(): string {
  const name = process.env.QUEUE_NAME;
  if (name) return name;
  console.error('Set QUEUE_NAME: every API and worker process of one deployment must use the same queue, e.g.\n  QUEUE_NAME=media npx tsx examples/distributed/api.ts');
  process.exit(1);
}

/** The connection with any password masked, for printing. */
export function describeConnection(url = connection()): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.href;
}

export const backend = (role: BullMQRole): BullMQBackend =>
  new BullMQBackend({
    connection: connection(),
    queueName: queueName(),
    prefix: process.env.REDIS_PREFIX ?? 'jobwire',
    role,
    concurrency: 2,
    stalled: { lockDurationMs: 5_000, stalledIntervalMs: 2_500 },
  });
