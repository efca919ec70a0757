import { createRequire } from 'node:module';
import { JobwireError } from './errors.js';

/** The `INVALID_CONFIG` error for a peer that is not installed, or undefined when `cause` is another failure. */
function missingPeer(cause: unknown, name: string, install: string, entry: string): JobwireError | undefined {
  const { code, message } = (cause ?? {}) as { code?: unknown; message?: unknown };
  const notFound = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  // Only when the peer itself is missing: a module missing deeper down is a broken install, reported as it is.
  if (!notFound || typeof message !== 'string' || !message.includes(`'${name}'`)) return undefined;
  return new JobwireError('INVALID_CONFIG', `${entry} needs the optional peer dependencies: npm install ${install} (could not load \`${name}\`)`, { cause });
}

/**
 * Import an optional peer dependency; a missing one is an `INVALID_CONFIG` error that says what
 * to install. Only the subpath entries that need a peer call this, so the core never loads one.
 */
export async function importOptional<T>(name: string, install: string, entry: string): Promise<T> {
  try {
    return (await import(name)) as T;
  } catch (cause) {
    throw missingPeer(cause, name, install, entry) ?? cause;
  }
}

/**
 * {@link importOptional} for entries whose API is synchronous (`traceJobs`): loads the peer with
 * `require`, so it only suits peers that ship CommonJS (Node's `import` of them loads the same file).
 */
export function requireOptional<T>(name: string, install: string, entry: string): T {
  try {
    return createRequire(import.meta.url)(name) as T;
  } catch (cause) {
    throw missingPeer(cause, name, install, entry) ?? cause;
  }
}
