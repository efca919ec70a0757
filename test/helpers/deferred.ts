/** The waiting helpers of the shipped conformance suites, used by this repository's tests too. */
export { collect, deferred, keyedDeferreds, rejection, sleep, until } from '../../src/testing/conformance/wait.js';
export type { Deferred } from '../../src/testing/conformance/wait.js';
