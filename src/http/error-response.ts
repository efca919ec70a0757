import { isJobwireError, type JobwireErrorCode } from '../errors.js';

/** HTTP status for each error code; codes not listed are server errors (500). */
export const HTTP_STATUS_BY_CODE: Readonly<Partial<Record<JobwireErrorCode, number>>> = Object.freeze({
  INVALID_REQUEST: 400,
  INVALID_INPUT: 422,
  FORBIDDEN: 403,
  JOB_NOT_FOUND: 404,
  PLUGIN_NOT_FOUND: 404,
  PLUGIN_DISABLED: 409,
  PAYLOAD_TOO_LARGE: 413,
  QUEUE_FULL: 429,
  CLOSED: 503,
  UNAVAILABLE: 503,
});

const JSON_TYPE = 'application/json; charset=utf-8';

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'Content-Type': JSON_TYPE, ...headers } });
}

/** `{ error: { code, message, details? } }` with the status of its code. Unknown errors become a bare 500. */
export function errorResponse(error: unknown, headers: Record<string, string> = {}): Response {
  if (isJobwireError(error)) {
    const status = HTTP_STATUS_BY_CODE[error.code] ?? 500;
    const body: { code: string; message: string; details?: unknown } = { code: error.code, message: error.message };
    if (error.details !== undefined) body.details = error.details;
    return json({ error: body }, status, headers);
  }
  // Never echo an unexpected error to a client: it may carry internals.
  return json({ error: { code: 'INTERNAL', message: 'Internal server error' } }, 500, headers);
}
