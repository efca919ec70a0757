import { JOBWIRE_ERROR_CODES, JobwireError, type JobwireErrorCode } from '../errors.js';

/** A status that may pass by itself: a 5xx, 408 (a proxy's timeout) or 429 (a rate limiter). */
export const isTransient = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/**
 * The `JobwireError` of a non-2xx answer: the server's `{ error: { code, message, details } }` as
 * it was thrown there. Without one (a proxy's page, an HTTP-only code such as `INTERNAL`): a 5xx,
 * 408 or 429 (try again later) is `UNAVAILABLE`, another 4xx `INVALID_REQUEST`, with
 * `{ status, code? }` in `details`.
 */
export async function errorOf(response: Response): Promise<JobwireError> {
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = ((await response.json()) as { error?: typeof error } | null)?.error;
  } catch {
    // Not JSON (a proxy's error page, or a body cut short): the status says enough.
  }
  const code = error?.code;
  const message = typeof error?.message === 'string' ? error.message : `HTTP ${response.status} from ${response.url || 'the server'}`;
  if (JOBWIRE_ERROR_CODES.includes(code as JobwireErrorCode)) {
    return new JobwireError(code as JobwireErrorCode, message, error?.details === undefined ? {} : { details: error.details });
  }
  const details = typeof code === 'string' ? { status: response.status, code } : { status: response.status };
  return new JobwireError(isTransient(response.status) ? 'UNAVAILABLE' : 'INVALID_REQUEST', message, { details });
}
