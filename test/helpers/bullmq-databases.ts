import { createPostgresBackend, Queue } from 'bullmq';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from './postgres.js';
import { deleteKeys, REDIS_URL, redisAnswers } from './redis.js';

/** One database BullMQ runs on here: its URL, whether it answers, a raw BullMQ queue to look into it, and its cleanup. */
export interface BullMQDatabase {
  name: 'Redis' | 'PostgreSQL';
  url: string;
  up: boolean;
  queue(name: string): Queue;
  cleanup(): Promise<void>;
}

/** The two databases BullMQ runs on here, under `prefix`; each one not answering is said once, as `what` skipped there. */
export async function bullmqDatabases(prefix: string, what: string): Promise<BullMQDatabase[]> {
  const redisUp = await redisAnswers();
  if (!redisUp) console.warn(`SKIPPED: ${what} on Redis — no Redis answers on 127.0.0.1:6379`);
  const postgresUp = await postgresAnswers();
  if (!postgresUp) console.warn(`SKIPPED: ${what} on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432`);
  return [
    {
      name: 'Redis',
      url: REDIS_URL,
      up: redisUp,
      queue: (name) => new Queue(name, { connection: { host: '127.0.0.1', port: 6379 }, prefix }),
      cleanup: () => deleteKeys(prefix),
    },
    {
      name: 'PostgreSQL',
      url: POSTGRES_URL,
      up: postgresUp,
      queue: (name) => new Queue(name, { connection: { connectionString: POSTGRES_URL }, prefix } as never, createPostgresBackend as never) as unknown as Queue,
      cleanup: () => deleteQueues(prefix),
    },
  ];
}
