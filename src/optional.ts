import { JobwireError } from './errors.js';

/**
 * Import an optional peer dependency; a missing one is an `INVALID_CONFIG` error that says what
 * to install. Only the subpath entries that need a peer call this, so the core never loads one.
 */
export async function importOptional<T>(name: string, install: string, entry: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    const code = (cause as { code?: unknown } | undefined)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new JobwireError('INVALID_CONFIG', `${entry} needs the optional peer dependencies: npm install ${install} (could not load \`${name}\`)`, { cause });
    }
    throw cause;
  }
}
