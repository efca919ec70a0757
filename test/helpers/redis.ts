import { answers } from './probe.js';

export const REDIS_URL = 'redis://127.0.0.1:6379';

/** Whether a Redis answers PING on 127.0.0.1:6379 (within a second). */
export const redisAnswers = (): Promise<boolean> => answers(6379, { send: 'PING\r\n', expect: '+PONG' });

/** A prefix no other test run uses. */
export function uniquePrefix(): string {
  return `jwtest-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Delete every key under `prefix:` (the test's own). */
export async function deleteKeys(prefix: string): Promise<void> {
  const { Redis } = await import('ioredis');
  const redis = new Redis(REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
