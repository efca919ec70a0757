import { importOptional } from '../optional.js';

/** The parts of `bullmq` and `ioredis` the backend uses, loaded only when a BullMQBackend starts. */
export interface Drivers {
  bullmq: typeof import('bullmq');
  /** Only for Redis. */
  Redis: typeof import('ioredis').Redis;
  /** Only for Redis: a Redis Cluster's client. */
  Cluster: typeof import('ioredis').Cluster;
}

const loading = new Map<'redis' | 'postgres', Promise<Drivers>>();

/**
 * Load `bullmq` (and `ioredis` for Redis) once; a clear `INVALID_CONFIG` error says what to install
 * when one is absent. PostgreSQL loads `pg` where it is used.
 */
export function loadDrivers(database: 'redis' | 'postgres'): Promise<Drivers> {
  let drivers = loading.get(database);
  if (!drivers) {
    drivers = (async () => {
      const bullmq = await importOptional<typeof import('bullmq')>('bullmq', database === 'redis' ? 'bullmq ioredis' : 'bullmq pg', 'jobwire/bullmq');
      if (database === 'postgres') return { bullmq, Redis: undefined as never, Cluster: undefined as never };
      const ioredis = await importOptional<typeof import('ioredis')>('ioredis', 'bullmq ioredis', 'jobwire/bullmq');
      return { bullmq, Redis: ioredis.Redis, Cluster: ioredis.Cluster };
    })();
    loading.set(database, drivers);
    drivers.catch(() => loading.delete(database)); // let a later start try again (after an install)
  }
  return drivers;
}
