import { isJobwireError } from '../../src/index.js';

function code(error: unknown): string {
  return isJobwireError(error) ? error.code : `not a JobwireError: ${String(error)}`;
}

/** The JobwireError code `fn` throws, or undefined when it does not throw. */
export function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return code(error);
  }
  return undefined;
}

/** The JobwireError code `promise` rejects with, or undefined when it resolves. */
export async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return code(error);
  }
  return undefined;
}
