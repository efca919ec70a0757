import { JobwireError } from '../errors.js';
import type { JobEvent } from '../job.js';
import { encodeSSE } from './encode.js';

/** The options every event stream takes: `openJobStream`'s and `openJobsStream`'s. */
export interface SSEStreamOptions {
  /** A `: heartbeat` comment goes out after this much silence. @default 15_000 */
  heartbeatMs?: number;
  /** The `retry:` sent first, telling EventSource how long to wait before reconnecting. @default 2_000 */
  retryMs?: number;
  /** Aborting ends the stream and frees everything it holds. */
  signal?: AbortSignal | undefined;
  /**
   * Turn an event into the `data` text. Default: `JSON.stringify(event)`. Return HTML to feed the
   * htmx SSE extension; any line breaks are split into `data:` lines safely. It gets every event:
   * status events (narrow with `isStatusEvent` before reading `job`), `output` and `gap`.
   * @example (event) => (event.type === 'output' ? `<p>${escape(String(event.chunk))}</p>` : '')
   */
  serialize?: (event: JobEvent) => string;
  /**
   * The SSE `event:` name of each job event. Default: its type (`queued`, `progress`, `output`,
   * `gap`…). Return `undefined` to send the event unnamed: htmx 4's SSE extension swaps only
   * unnamed messages.
   */
  eventName?: (event: JobEvent) => string | undefined;
  /**
   * Once the stream has sent its last terminal event, one more event of this name, with no `id`.
   * A client that closes on one event name then stops after every ending — htmx:
   * `sse-close="end"` (htmx 2) or `hx-sse:close="end"` (htmx 4). CR, LF or NUL in it is
   * `INVALID_REQUEST`.
   * @example 'end'
   */
  endEvent?: string;
}

/** Checked stream options. */
export interface StreamSettings {
  heartbeatMs: number;
  retryMs: number;
  serialize: (event: JobEvent) => string;
  eventName: ((event: JobEvent) => string | undefined) | undefined;
  endEvent: string | undefined;
  signal: AbortSignal | undefined;
}

/** `JSON.stringify(event)`: the `data` of an event unless `serialize` says otherwise. */
export const defaultSerialize = (event: JobEvent): string => JSON.stringify(event);

function checkDelay(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) throw new JobwireError('INVALID_REQUEST', `\`${name}\` must be a positive integer of milliseconds`);
  return value;
}

function checkEndEvent(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new JobwireError('INVALID_REQUEST', '`endEvent` must be a non-empty string');
  encodeSSE({ event: value }); // refuses CR, LF and NUL with INVALID_REQUEST
  return value;
}

/**
 * The options, checked, with their defaults.
 * @throws JobwireError `INVALID_REQUEST` for a delay that is not a positive integer or a bad `endEvent`.
 */
export function streamSettings(options: SSEStreamOptions): StreamSettings {
  return {
    heartbeatMs: checkDelay(options.heartbeatMs ?? 15_000, 'heartbeatMs'),
    retryMs: checkDelay(options.retryMs ?? 2_000, 'retryMs'),
    serialize: options.serialize ?? defaultSerialize,
    eventName: options.eventName,
    endEvent: checkEndEvent(options.endEvent),
    signal: options.signal,
  };
}

/**
 * How a stream turns an event into its frame: `id` from `idOf`, `event:` from `eventName` (default:
 * the type), `data:` from `serialize`. With the default serialisation, `cache` keeps each event's
 * frame, so streams that share an event object (and an `idOf`) share its frame.
 */
export function frameMaker(settings: StreamSettings, idOf: (event: JobEvent) => string | number, cache: WeakMap<JobEvent, string>): (event: JobEvent) => string {
  const { eventName, serialize } = settings;
  if (eventName) {
    return (event) => {
      const name = eventName(event);
      return encodeSSE(name === undefined ? { id: idOf(event), data: serialize(event) } : { id: idOf(event), event: name, data: serialize(event) });
    };
  }
  if (serialize !== defaultSerialize) return (event) => encodeSSE({ id: idOf(event), event: event.type, data: serialize(event) });
  return (event) => {
    let frame = cache.get(event);
    if (frame === undefined) {
      frame = encodeSSE({ id: idOf(event), event: event.type, data: defaultSerialize(event) });
      cache.set(event, frame);
    }
    return frame;
  };
}
