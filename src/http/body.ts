import { JobwireError } from '../errors.js';
import { logDebug, silentLogger, type Logger } from '../logger.js';

/** Default largest request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/** The kinds of body the submit route reads. */
export type BodyKind = 'json' | 'urlencoded' | 'multipart';

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i;
const URLENCODED_TYPE = /^application\/x-www-form-urlencoded\s*(?:;|$)/i;
const MULTIPART_TYPE = /^multipart\/form-data\s*(?:;|$)/i;

/**
 * The kind of a body by its `Content-Type` (none: JSON).
 * @throws JobwireError `INVALID_REQUEST` for any other type.
 */
export function bodyKind(contentType: string | null): BodyKind {
  if (contentType === null || JSON_TYPE.test(contentType)) return 'json';
  if (URLENCODED_TYPE.test(contentType)) return 'urlencoded';
  if (MULTIPART_TYPE.test(contentType)) return 'multipart';
  throw new JobwireError(
    'INVALID_REQUEST',
    `Expected a JSON body (application/json) or form data (application/x-www-form-urlencoded, multipart/form-data), got ${contentType}`,
  );
}

function tooLarge(maxBytes: number): JobwireError {
  return new JobwireError('PAYLOAD_TOO_LARGE', `Body is larger than ${maxBytes} bytes`);
}

/**
 * Read a whole body, at most `maxBytes`. Counts bytes as they arrive, so a body without (or lying
 * about) Content-Length is cut off just the same, and never buffers more than the limit.
 * `logger` hears (at debug) a failure to stop reading an oversized body.
 * @throws JobwireError `PAYLOAD_TOO_LARGE`.
 */
export async function readBodyBytes(request: Request, maxBytes: number, logger: Logger = silentLogger): Promise<Buffer> {
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(logDebug(logger, 'could not stop reading an oversized body')); // the size error is the one to throw
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  }
  return Buffer.concat(chunks);
}

/**
 * Parse a JSON object body.
 * @throws JobwireError `INVALID_REQUEST` for malformed JSON or anything but an object.
 */
export function parseJsonObject(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'));
  } catch {
    throw new JobwireError('INVALID_REQUEST', 'Body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JobwireError('INVALID_REQUEST', 'Body must be a JSON object');
  return value as Record<string, unknown>;
}
