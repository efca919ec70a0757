import { createRequire } from 'node:module';

/**
 * Path of a built worker entry (`jobwire/worker/thread` or `jobwire/worker/process`), resolved
 * through the package's own exports, so it is found from the ESM and CJS builds and from tests
 * that run the sources alike. Workers therefore need jobwire installed as a package, not bundled.
 */
export function workerEntry(kind: 'thread' | 'process'): string {
  return createRequire(import.meta.url).resolve(`jobwire/worker/${kind}`);
}
