import { isJobwireError, JobwireError, messageOf } from '../errors.js';

/**
 * What a hook shows as its `error`: a `JobwireError` as the client threw it, or anything else
 * wrapped as `UNAVAILABLE` (the client turns every failure into a `JobwireError`; this covers a
 * custom `fetch` that throws something of its own).
 */
export function asJobwireError(thrown: unknown): JobwireError {
  return isJobwireError(thrown) ? thrown : new JobwireError('UNAVAILABLE', messageOf(thrown), { cause: thrown });
}
