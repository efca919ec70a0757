import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeSSE, encodeSSEComment, SSE_HEADERS } from '../../src/sse/index.js';
import { thrownCode } from '../helpers/codes.js';

/** Feed text to an independent SSE parser in the given chunk sizes; return what it dispatched. */
function parse(text: string, cuts: number[] = []): { events: EventSourceMessage[]; retries: number[]; comments: string[] } {
  const events: EventSourceMessage[] = [];
  const retries: number[] = [];
  const comments: string[] = [];
  const parser = createParser({ onEvent: (e) => events.push(e), onRetry: (r) => retries.push(r), onComment: (c) => comments.push(c) });
  let at = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    parser.feed(text.slice(at, cut));
    at = Math.max(at, cut);
  }
  parser.feed(text.slice(at));
  return { events, retries, comments };
}

/** Strings rich in the characters that break naive encoders. */
const hostile = fc
  .array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\r', '\n', '\r\n', '\n\r', '\0', ':', ' ', 'data: x', 'event: y', 'id: 9', 'retry: 1', '\u2028', '\uFEFF', '\n\n')), { maxLength: 12 })
  .map((parts) => parts.join(''));

describe('encodeSSE', () => {
  it('writes the fields in spec order and ends with a blank line', () => {
    expect(encodeSSE({ id: 3, event: 'progress', data: '{"p":40}' })).toBe('id: 3\nevent: progress\ndata: {"p":40}\n\n');
    expect(encodeSSE({ retry: 2000 })).toBe('retry: 2000\n\n');
    expect(encodeSSE({ data: '' })).toBe('data: \n\n');
    expect(encodeSSEComment('heartbeat')).toBe(': heartbeat\n\n');
  });

  it('splits data on CR, LF and CRLF into data: lines', () => {
    expect(encodeSSE({ data: 'a\rb\nc\r\nd' })).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n');
    expect(encodeSSE({ data: 'end\n' })).toBe('data: end\ndata: \n\n');
  });

  it('refuses CR, LF or NUL in id or event with INVALID_REQUEST', () => {
    for (const bad of ['a\nb', 'a\rb', 'a\0b', '\r\n', 'x\ndata: forged']) {
      expect(thrownCode(() => encodeSSE({ id: bad, data: 'x' })), JSON.stringify(bad)).toBe('INVALID_REQUEST');
      expect(thrownCode(() => encodeSSE({ event: bad, data: 'x' })), JSON.stringify(bad)).toBe('INVALID_REQUEST');
    }
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) expect(thrownCode(() => encodeSSE({ retry: bad }))).toBe('INVALID_REQUEST');
  });

  it('the headers are the contract ones', () => {
    expect(SSE_HEADERS).toEqual({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
  });

  it('property: any data reaches an eventsource-parser client as one event, intact up to line-ending normalisation', () => {
    fc.assert(
      fc.property(hostile, fc.nat(1_000_000), fc.constantFrom('progress', 'completed', 'message'), fc.array(fc.nat(400), { maxLength: 6 }), (data, id, event, cuts) => {
        const { events } = parse(encodeSSE({ id, event, data }), cuts);
        expect(events).toEqual([{ id: String(id), event, data: data.replace(/\r\n|\r/g, '\n') }]);
      }),
      { numRuns: 500 },
    );
  });

  it('property: a stream of frames and comments yields exactly the frames, in order', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(hostile.map((data) => ({ data })), hostile.map((comment) => ({ comment }))), { maxLength: 10 }), fc.array(fc.nat(2_000), { maxLength: 8 }), (items, cuts) => {
        const text = encodeSSE({ retry: 1000 }) + items.map((item, i) => ('data' in item ? encodeSSE({ id: i + 1, event: 'progress', data: item.data }) : encodeSSEComment(item.comment))).join('');
        const { events, retries } = parse(text, cuts);
        const expected = items.flatMap((item, i) => ('data' in item ? [{ id: String(i + 1), event: 'progress', data: item.data.replace(/\r\n|\r/g, '\n') }] : []));
        expect(events).toEqual(expected);
        expect(retries).toEqual([1000]);
      }),
      { numRuns: 300 },
    );
  });

  it('property: forbidden characters in id or event are always refused, other values always pass', () => {
    fc.assert(
      fc.property(hostile, (value) => {
        const bad = /[\r\n\0]/.test(value);
        expect(thrownCode(() => encodeSSE({ event: value, data: '' }))).toBe(bad ? 'INVALID_REQUEST' : undefined);
        expect(thrownCode(() => encodeSSE({ id: value, data: '' }))).toBe(bad ? 'INVALID_REQUEST' : undefined);
      }),
    );
  });
});
