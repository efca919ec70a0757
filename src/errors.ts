/**
 * Stable error codes carried by every {@link JobwireError}.
 *
 * Codes never change meaning; match on `error.code`, not on the message.
 */
export type JobwireErrorCode =
  | 'INVALID_INPUT'
  | 'INVALID_CONFIG'
  | 'PLUGIN_NOT_FOUND'
  | 'PLUGIN_DISABLED'
  | 'JOB_NOT_FOUND'
  | 'RESULT_NOT_FOUND'
  | 'QUEUE_FULL'
  | 'TIMEOUT'
  | 'CANCELLED'
  | 'CLOSED'
  | 'PLUGIN_FAILED'
  | 'STORAGE_FAILED'
  | 'INVALID_REQUEST'
  | 'PAYLOAD_TOO_LARGE'
  | 'FORBIDDEN'
  | 'UNAVAILABLE';

/** Every code, in a frozen list (handy for exhaustive checks and docs). */
export const JOBWIRE_ERROR_CODES: readonly JobwireErrorCode[] = Object.freeze([
  'INVALID_INPUT',
  'INVALID_CONFIG',
  'PLUGIN_NOT_FOUND',
  'PLUGIN_DISABLED',
  'JOB_NOT_FOUND',
  'RESULT_NOT_FOUND',
  'QUEUE_FULL',
  'TIMEOUT',
  'CANCELLED',
  'CLOSED',
  'PLUGIN_FAILED',
  'STORAGE_FAILED',
  'INVALID_REQUEST',
  'PAYLOAD_TOO_LARGE',
  'FORBIDDEN',
  'UNAVAILABLE',
]);

/** Options for {@link JobwireError}. */
export interface JobwireErrorOptions {
  /** The underlying error, kept for logs; never sent to clients. */
  cause?: unknown;
  /** Machine-readable detail, e.g. zod issues for `INVALID_INPUT`. Must be JSON-safe. */
  details?: unknown;
}

/** The plain JSON form of an error, as stored on a job and sent over HTTP. */
export interface JobErrorInfo {
  code: string;
  message: string;
}

/**
 * The one error type jobwire throws on purpose.
 *
 * @example
 * ```ts
 * try { await tracker.submit('nope', {}); }
 * catch (error) { if (isJobwireError(error) && error.code === 'PLUGIN_NOT_FOUND') … }
 * ```
 */
export class JobwireError extends Error {
  override name = 'JobwireError' as const;
  /** Stable code; see {@link JobwireErrorCode}. */
  readonly code: JobwireErrorCode;
  /** Machine-readable detail (JSON-safe), when the code has some. */
  readonly details?: unknown;

  constructor(code: JobwireErrorCode, message: string, options: JobwireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  /** `{ code, message, details? }`, safe to send to a client. */
  toJSON(): { code: JobwireErrorCode; message: string; details?: unknown } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * True for a {@link JobwireError}, also one from another copy of the package or another realm
 * (compares `name` and `code`, not the prototype).
 */
export function isJobwireError(value: unknown): value is JobwireError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { name?: unknown }).name === 'JobwireError' &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/**
 * A readable message from anything thrown: an Error's message, a string, or a JSON rendering.
 * Never throws, whatever was thrown (a revoked proxy, an `Error` whose `message` getter throws…).
 */
export function messageOf(thrown: unknown): string {
  try {
    if (thrown instanceof Error) {
      const { message } = thrown;
      return typeof message === 'string' && message !== '' ? message : String(thrown.name);
    }
    if (typeof thrown === 'string') return thrown;
    if (thrown === undefined) return 'undefined was thrown';
    const json = JSON.stringify(thrown);
    return json ?? String(thrown);
  } catch {
    // A value that cannot be read, even to describe it: say what kind of value it was.
  }
  try {
    return `a value that cannot be read was thrown (${Object.prototype.toString.call(thrown)})`;
  } catch {
    return 'a value that cannot be read was thrown';
  }
}
