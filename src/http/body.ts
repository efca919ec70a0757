import { JobwireError } from '../errors.js';

/** Default largest request body: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1_048_576;

/**
 * Read a JSON object body, at most `maxBytes`. Counts bytes as they arrive, so a body without (or
 * lying about) Content-Length is cut off just the same.
 * @throws JobwireError `PAYLOAD_TOO_LARGE`, or `INVALID_REQUEST` for a wrong type or malformed JSON.
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<Record<string, unknown>> {
  const type = request.headers.get('content-type');
  if (type !== null && !/^application\/(?:[\w.+-]+\+)?json\b/i.test(type)) {
    throw new JobwireError('INVALID_REQUEST', `Expected a JSON body (Content-Type: application/json), got ${type}`);
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw new JobwireError('PAYLOAD_TOO_LARGE', `Body is larger than ${maxBytes} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => undefined); // the size error is the one to report
        throw new JobwireError('PAYLOAD_TOO_LARGE', `Body is larger than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new JobwireError('INVALID_REQUEST', 'Body is not valid JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JobwireError('INVALID_REQUEST', 'Body must be a JSON object');
  return value as Record<string, unknown>;
}
