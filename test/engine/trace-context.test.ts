import { describe, expect, it } from 'vitest';
import { checkedTraceContext, MAX_TRACE_CHARS, MAX_TRACE_ENTRIES } from '../../src/engine/trace-context.js';

const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

describe('checkedTraceContext (what a job keeps of its submit’s trace context)', () => {
  it('keeps what W3C propagators write, as a plain copy', () => {
    const carrier = { traceparent: TRACEPARENT, tracestate: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', baggage: 'user=alice%20b,tier=gold' };
    const checked = checkedTraceContext(carrier);
    expect(checked).toEqual(carrier);
    expect(checked).not.toBe(carrier);
    expect(checkedTraceContext({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' })).toEqual({ b3: '80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1' });
  });

  it('drops a malformed traceparent, and entries that are not header-like strings', () => {
    for (const traceparent of [
      'garbage',
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, // all-zero trace id
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01', // all-zero span id
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', // version ff is invalid
      `${TRACEPARENT}-more`, // version 00 has exactly four fields
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01', // upper case
    ]) {
      expect(checkedTraceContext({ traceparent, tracestate: 'a=b' })).toEqual({ tracestate: 'a=b' });
    }
    expect(checkedTraceContext({ traceparent: `01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future` })).toBeDefined(); // a later version may add fields
    expect(checkedTraceContext({ traceparent: TRACEPARENT, tracestate: 'a=b\r\nx-injected: 1', n: 1, o: {}, '': 'x', __proto__x: 'y', 'bad key': 'z' })).toEqual({ traceparent: TRACEPARENT });
    const polluted = JSON.parse(`{"__proto__": {"polluted": "yes"}, "traceparent": "${TRACEPARENT}"}`) as unknown;
    expect(checkedTraceContext(polluted)).toEqual({ traceparent: TRACEPARENT });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is bounded: a huge value or too many entries are dropped, traceparent kept first; nothing left is undefined', () => {
    expect(checkedTraceContext({ baggage: 'x'.repeat(MAX_TRACE_CHARS + 1) })).toBeUndefined();
    expect(checkedTraceContext({ traceparent: `${TRACEPARENT}${'0'.repeat(1_000_000)}` })).toBeUndefined();
    const big = { baggage: 'x'.repeat(MAX_TRACE_CHARS - 20), traceparent: TRACEPARENT };
    expect(Object.keys(checkedTraceContext(big)!)).toEqual(['traceparent']); // baggage no longer fits beside it
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${i}`, 'v']));
    const checked = checkedTraceContext({ ...many, traceparent: TRACEPARENT })!;
    expect(Object.keys(checked)).toHaveLength(MAX_TRACE_ENTRIES);
    expect(Object.keys(checked)[0]).toBe('traceparent');
    for (const value of [undefined, null, 'traceparent', [TRACEPARENT], 42, {}]) expect(checkedTraceContext(value)).toBeUndefined();
  });
});
