/**
 * Thrown by a plugin to fail its job at once, whatever tries it has left: the job ends `failed`
 * (code `PLUGIN_FAILED`, this error's message) instead of retrying. For failures another try
 * cannot fix: a file that does not exist, a request the service refused as invalid.
 *
 * Recognised by its `name`, so it works from isolated plugins (threads, processes) too.
 *
 * @example
 * ```ts
 * import { NonRetryableError } from 'jobwire';
 * if (response.status === 400) throw new NonRetryableError(`Rejected: ${await response.text()}`);
 * ```
 */
export class NonRetryableError extends Error {
  override name = 'NonRetryableError' as const;
}

/** True for a `NonRetryableError`, also one rebuilt on this side of a thread or process boundary (by its name). */
export function isNonRetryable(error: unknown): boolean {
  return error instanceof Error && error.name === 'NonRetryableError';
}
