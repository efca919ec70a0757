import { isJobwireError, type JobwireErrorCode } from '../errors.js';

/** HTTP status for each error code; codes not listed are server errors (500). */
export const HTTP_STATUS_BY_CODE: Readonly<Partial<Record<JobwireErrorCode, number>>> = Object.freeze({
  INVALID_REQUEST: 400,
  INVALID_INPUT: 422,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  RESULT_NOT_FOUND: 404,
  PLUGIN_NOT_FOUND: 404,
  PLUGIN_DISABLED: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUEUE_FULL: 429,
  CLOSED: 503,
  UNAVAILABLE: 503,
});

/**
 * Codes that only the HTTP layer answers with, never thrown as a `JobwireError`: `INTERNAL` (500,
 * an unexpected failure) and `NOT_FOUND` (404 from `toNodeHandler` for a request no route owns and
 * no `next` takes).
 */
export type HttpOnlyErrorCode = 'INTERNAL' | 'NOT_FOUND';

/** Every {@link HttpOnlyErrorCode}, in a frozen list. */
export const HTTP_ONLY_ERROR_CODES: readonly HttpOnlyErrorCode[] = Object.freeze(['INTERNAL', 'NOT_FOUND']);

/**
 * The body of every error response of `jobwire/http`.
 * @example
 * ```ts
 * const body = (await response.json()) as HttpErrorBody;
 * if (body.error.code === 'RESULT_NOT_FOUND') …
 * ```
 */
export interface HttpErrorBody {
  error: { code: JobwireErrorCode | HttpOnlyErrorCode; message: string; details?: unknown };
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': JSON_TYPE, ...headers } });
}

/** The body of an error that only the HTTP layer produces. */
export function httpOnlyError(code: HttpOnlyErrorCode, message: string): HttpErrorBody {
  return { error: { code, message } };
}

/** `{ error: { code, message, details? } }` with the status of its code. Unknown errors become a bare 500. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  if (isJobwireError(error)) {
    const status = HTTP_STATUS_BY_CODE[error.code] ?? 500;
    const body: HttpErrorBody['error'] = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return json({ error: body }, status, headers);
  }
  // Never echo an unexpected error to a client: it may carry internals.
  return json(httpOnlyError('INTERNAL', 'Internal server error'), 500, headers);
}
