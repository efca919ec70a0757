import { JobwireError } from '../errors.js';

/** One SSE message. Every field is optional; an empty message encodes to nothing useful. */
export interface SSEMessage {
  /** The `id:` field. CR, LF and NUL are refused. */
  id?: string | number;
  /** The `event:` field. CR, LF and NUL are refused. */
  event?: string;
  /** The payload; split on CR, LF and CRLF into `data:` lines, so no text can start another event. */
  data?: string;
  /** Reconnection time in milliseconds (`retry:`). */
  retry?: number;
}

const FIELD_BREAKERS = /[\r\n\0]/;
const LINE_BREAK = /\r\n|\r|\n/;

function checkField(name: 'id' | 'event', value: string): string {
  if (FIELD_BREAKERS.test(value)) {
    throw new JobwireError('INVALID_REQUEST', `SSE \`${name}\` must not contain CR, LF or NUL`);
  }
  return value;
}

/**
 * Encode one SSE message per the WHATWG spec, ending with the blank line that dispatches it.
 *
 * @throws JobwireError `INVALID_REQUEST` when `id` or `event` holds CR, LF or NUL, or `retry` is
 * not a non-negative integer (each would let a value forge fields or events).
 * @example
 * ```ts
 * encodeSSE({ id: 3, event: 'progress', data: '{"p":40}' }); // 'id: 3\nevent: progress\ndata: {"p":40}\n\n'
 * ```
 */
export function encodeSSE(message: SSEMessage): string {
  let out = '';
  if (message.retry !== undefined) {
    if (!Number.isSafeInteger(message.retry) || message.retry < 0) throw new JobwireError('INVALID_REQUEST', 'SSE `retry` must be a non-negative integer');
    out += `retry: ${message.retry}\n`;
  }
  if (message.id !== undefined) out += `id: ${checkField('id', String(message.id))}\n`;
  if (message.event !== undefined) out += `event: ${checkField('event', message.event)}\n`;
  if (message.data !== undefined) {
    for (const line of message.data.split(LINE_BREAK)) out += `data: ${line}\n`;
  }
  return `${out}\n`;
}

/** An SSE comment (ignored by clients; used for heartbeats). Each line of `text` becomes a comment line. */
export function encodeSSEComment(text: string): string {
  let out = '';
  for (const line of text.split(LINE_BREAK)) out += `: ${line}\n`;
  return `${out}\n`;
}

/** The response headers of an event stream (see the design contract). */
export const SSE_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
});

let lastText: string | undefined;
let lastBytes: Uint8Array | undefined;
const encoder = new TextEncoder();

/**
 * UTF-8 bytes of a frame. The last one is kept: when one event goes out to many streams, their
 * frames are the same string and are encoded once. The bytes are shared: never mutate them.
 */
export function frameBytes(text: string): Uint8Array {
  if (text !== lastText || lastBytes === undefined) {
    lastBytes = encoder.encode(text);
    lastText = text;
  }
  return lastBytes;
}
