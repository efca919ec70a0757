import { importOptional } from '../optional.js';

/** The parts of `bullmq` and `ioredis` the backend uses, loaded only when a BullMQBackend starts. */
export interface Drivers {
  bullmq: typeof import('bullmq');
  Redis: typeof import('ioredis').Redis;
}

let loading: Promise<Drivers> | undefined;

/** Load `bullmq` and `ioredis` once; a clear `INVALID_CONFIG` error says what to install when absent. */
export function loadDrivers(): Promise<Drivers> {
  loading ??= (async () => {
    const [bullmq, ioredis] = await Promise.all([
      importOptional<typeof import('bullmq')>('bullmq', 'bullmq ioredis', 'jobwire/bullmq'),
      importOptional<typeof import('ioredis')>('ioredis', 'bullmq ioredis', 'jobwire/bullmq'),
    ]);
    return { bullmq, Redis: ioredis.Redis };
  })();
  loading.catch(() => {
    loading = undefined; // let a later start try again (after an install)
  });
  return loading;
}
