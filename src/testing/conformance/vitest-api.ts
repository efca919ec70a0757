import { JobwireError } from '../../errors.js';

/** The parts of vitest the conformance suites use. */
export type VitestApi = Pick<typeof import('vitest'), 'describe' | 'it' | 'expect' | 'beforeEach' | 'afterEach'>;

/**
 * vitest, loaded when a suite is registered: it is an optional peer dependency of
 * `jobwire/testing`, needed by the conformance suites only (`runPlugin` and `MockPluginManager`
 * work under any test runner).
 */
export async function loadVitest(): Promise<VitestApi> {
  try {
    return await import('vitest');
  } catch (cause) {
    throw new JobwireError('INVALID_CONFIG', 'The conformance suites of jobwire/testing run on vitest: npm install --save-dev vitest', { cause });
  }
}
