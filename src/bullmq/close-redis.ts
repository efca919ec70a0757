import type { Cluster, Redis } from 'ioredis';
import { settleWithin } from '../engine/settle-within.js';

/** How long a Redis connection gets to take its leave (`QUIT`) before it is cut. */
export const QUIT_WAIT_MS = 2_000;

/**
 * Close a Redis connection without ever waiting on an outage: a connection that is up says `QUIT`
 * (what it sent before is answered first), bounded by {@link QUIT_WAIT_MS}; one that is down,
 * reconnecting, or still stuck behind a blocking read after the bound is cut at once. Either way
 * no socket or reconnect timer is left behind. A Redis Cluster's client closes the same way. Never rejects.
 */
export async function closeRedis(client: Redis | Cluster): Promise<void> {
  const status = (): string => client.status; // read afresh: it changes while QUIT is under way
  if (status() === 'end') return;
  if (status() === 'ready') await settleWithin([client.quit()], QUIT_WAIT_MS);
  if (status() !== 'end') client.disconnect();
}
