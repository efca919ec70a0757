import { JOBWIRE_ERROR_CODES, JobwireError, type JobwireErrorCode } from '../errors.js';

/** A status that may pass by itself: a 5xx, 408 (a proxy's timeout) or 429 (a rate limiter). */
export const isTransient = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/**
 * The `JobwireError` of a non-2xx answer: the server's `{ error: { code, message, details } }` as
 * it was thrown there. Without one (a proxy's page, an HTTP-only code such as `INTERNAL`): a 5xx,
 * 408 or 429 (try again later) is `UNAVAILABLE`, another 4xx `INVALID_REQUEST`, with
 * `{ status, code? }` in `details`; for a 404 or 405 (no route there: nothing is mounted at that
 * path) its message ends with `hint`, which says where the routes were looked for.
 */
export async function errorOf(response: Response, hint?: string): Promise<JobwireError> {
  let error: { code?: unknown; message?: unknown; details?: unknown } | undefined;
  try {
    error = ((await response.json()) as { error?: typeof error } | null)?.error;
  } catch {
    // Not JSON (a proxy's error page, or a body cut short): the status says enough.
  }
  const { status } = response;
  const code = error?.code;
  let message = typeof error?.message === 'string' ? error.message : `HTTP ${status} from ${response.url || 'the server'}`;
  if (JOBWIRE_ERROR_CODES.includes(code as JobwireErrorCode)) {
    return new JobwireError(code as JobwireErrorCode, message, error?.details === undefined ? {} : { details: error.details });
  }
  if (hint && (status === 404 || status === 405)) message += ` (not an answer of jobwire's routes: ${hint})`;
  const details = typeof code === 'string' ? { status, code } : { status };
  return new JobwireError(isTransient(status) ? 'UNAVAILABLE' : 'INVALID_REQUEST', message, { details });
}
