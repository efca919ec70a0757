import type { JobTraceContext } from '../backend/job-record.js';

/** Entries a job's trace context keeps at most (W3C needs three: `traceparent`, `tracestate`, `baggage`). */
export const MAX_TRACE_ENTRIES = 8;

/** Characters of keys and values a job's trace context keeps at most. */
export const MAX_TRACE_CHARS = 4_096;

/** A carrier key, as propagators name them (`traceparent`, `b3`, `x-b3-traceid`, `uber-trace-id`…). */
const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** A header value: printable ASCII and spaces (what trace headers are; baggage is percent-encoded). */
const VALUE = /^[\x20-\x7e]*$/;

/** W3C trace context `traceparent`: version, trace id, parent id, flags (a later version may add fields). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}(-.*)?$/;

function validTraceparent(value: string): boolean {
  const match = TRACEPARENT.exec(value);
  if (!match) return false;
  const [, version, traceId, spanId, more] = match;
  return version !== 'ff' && !(version === '00' && more !== undefined) && !/^0+$/.test(traceId!) && !/^0+$/.test(spanId!);
}

/**
 * A job's trace context as it may be stored and used: a copy of `value` holding only well-formed
 * entries (a string key as propagators name them, a printable-ASCII string value, a `traceparent`
 * that is W3C's), `traceparent` first, while they fit {@link MAX_TRACE_ENTRIES} and
 * {@link MAX_TRACE_CHARS}; `undefined` when none is left. Never throws: trace context is
 * telemetry, and a bad one (hostile or damaged, from a propagator or a store) must not fail a job.
 */
export function checkedTraceContext(value: unknown): JobTraceContext | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const carrier = value as Record<string, unknown>;
  const checked: Record<string, string> = {};
  let count = 0;
  let chars = 0;
  const keep = (key: string): void => {
    const entry = carrier[key];
    if (typeof entry !== 'string' || !KEY.test(key)) return;
    if (chars + key.length + entry.length > MAX_TRACE_CHARS || !VALUE.test(entry)) return;
    if (key === 'traceparent' && !validTraceparent(entry)) return;
    checked[key] = entry;
    count++;
    chars += key.length + entry.length;
  };
  // traceparent first: it is what links the spans, and what the bounds must keep.
  if (Object.hasOwn(carrier, 'traceparent')) keep('traceparent');
  let seen = 0;
  for (const key in carrier) {
    // A carrier with thousands of keys is not a propagator's: looking at the first few is enough.
    if (count === MAX_TRACE_ENTRIES || ++seen > 4 * MAX_TRACE_ENTRIES) break;
    if (key !== 'traceparent' && Object.hasOwn(carrier, key)) keep(key);
  }
  return count === 0 ? undefined : checked;
}
