import { JobwireError } from '../errors.js';

/** The parts of `bullmq` and `ioredis` the backend uses, loaded only when a BullMQBackend starts. */
export interface Drivers {
  bullmq: typeof import('bullmq');
  Redis: typeof import('ioredis').Redis;
}

let loading: Promise<Drivers> | undefined;

/** Import an optional peer; a missing one is a typed error that says what to install. */
export async function importOptional<T>(name: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new JobwireError('INVALID_CONFIG', `jobwire/bullmq needs the optional peer dependencies: npm install bullmq ioredis (could not load \`${name}\`)`, { cause });
    }
    throw cause;
  }
}

/** Load `bullmq` and `ioredis` once; a clear `INVALID_CONFIG` error says what to install when absent. */
export function loadDrivers(): Promise<Drivers> {
  loading ??= (async () => {
    const [bullmq, ioredis] = await Promise.all([importOptional<typeof import('bullmq')>('bullmq'), importOptional<typeof import('ioredis')>('ioredis')]);
    return { bullmq, Redis: ioredis.Redis };
  })();
  loading.catch(() => {
    loading = undefined; // let a later start try again (after an install)
  });
  return loading;
}
