import { createPostgresBackend, QueueEvents } from 'bullmq';
import type { BullMQDatabase } from '../helpers/bullmq-databases.js';
import { POSTGRES_URL } from '../helpers/postgres.js';

/** A BullMQ QueueEvents reader of `name` on `database`, as a BullMQ user would open one. */
export function queueEventsOf(database: BullMQDatabase, name: string, prefix: string): QueueEvents {
  if (database.name === 'Redis') return new QueueEvents(name, { connection: { host: '127.0.0.1', port: 6379 }, prefix });
  return new QueueEvents(name, { connection: { connectionString: POSTGRES_URL }, prefix } as never, createPostgresBackend as never) as unknown as QueueEvents;
}

/** Every event of `names` QueueEvents emits, in order, with its payload. */
export function recordEvents(events: QueueEvents, names: readonly string[]): { name: string; args: Record<string, unknown> }[] {
  const seen: { name: string; args: Record<string, unknown> }[] = [];
  for (const name of names) events.on(name as 'progress', (args: unknown) => seen.push({ name, args: args as Record<string, unknown> }));
  return seen;
}
