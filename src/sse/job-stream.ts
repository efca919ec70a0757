import { JobwireError, messageOf } from '../errors.js';
import { isStatusEvent, isTerminalStatus, type JobEvent, type JobSnapshot, type JobStatusEvent } from '../job.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { encodeSSE, encodeSSEComment } from './encode.js';

/** Options for {@link openJobStream}. */
export interface JobStreamOptions {
  /** The client's `Last-Event-ID`: replay only events after it. A non-integer is `INVALID_REQUEST`. */
  lastEventId?: string | number | null | undefined;
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
   * After the terminal event (`completed`, `failed` or `cancelled`), send one more event of this
   * name, with the terminal status as its data and no `id`. A client that closes on one event name
   * then stops after every ending — htmx: `sse-close="end"` (htmx 2) or `hx-sse:close="end"` (htmx 4).
   * CR, LF or NUL in it is `INVALID_REQUEST`.
   * @example 'end'
   */
  endEvent?: string;
  /**
   * The job as the caller just read it (to authorize the request, say): the stream starts from it
   * instead of reading the job again. It must be the snapshot of `id`; a different id is
   * `INVALID_REQUEST`.
   */
  job?: JobSnapshot;
}

/**
 * An open event stream for one job: check `status`, then iterate its SSE frames (strings; one
 * string holds several frames when several events were waiting).
 * 200: frames follow; 204: the client already saw the terminal event (tell EventSource to stop);
 * 404: unknown job.
 */
export interface JobStream extends AsyncIterable<string> {
  readonly status: 200 | 204 | 404;
  /** The job id the stream follows. */
  readonly jobId: string;
  /** Stop at once: unsubscribes from the job and clears the heartbeat timer. Safe to call twice. */
  close(): void;
  /** True once the stream ended or was closed. */
  readonly closed: boolean;
}

const HEARTBEAT = encodeSSEComment('heartbeat');

function parseLastEventId(value: JobStreamOptions['lastEventId']): number {
  if (value === undefined || value === null || value === '') return 0;
  const text = String(value).trim();
  if (!/^\d{1,15}$/.test(text)) throw new JobwireError('INVALID_REQUEST', 'Last-Event-ID must be a non-negative integer');
  return Number(text);
}

function checkDelay(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1 || value > 2_147_483_647) throw new JobwireError('INVALID_REQUEST', `\`${name}\` must be a positive integer of milliseconds`);
  return value;
}

const defaultSerialize = (event: JobEvent): string => JSON.stringify(event);

/** True for the event that ends a job's stream: `completed`, `failed` or `cancelled`. */
function isTerminalEvent(event: JobEvent): event is JobStatusEvent {
  return isStatusEvent(event) && isTerminalStatus(event.job.status);
}

/** The closing event after a terminal one: no `id`, so a reconnect still resumes after the terminal event. */
function endFrame(name: string, terminal: JobStatusEvent): string {
  return encodeSSE({ event: name, data: terminal.job.status });
}

/**
 * Frames already waiting are sent together, up to about this many characters: a burst of small
 * output events then costs one write (one `enqueue`, one chunk of the HTTP body) instead of one
 * each. Past it, the rest waits for the next pull, so a slow client still holds back the stream.
 */
const BATCH_CHARS = 64 * 1024;

/** What {@link ready} answers for an iterator result that is not there yet. */
const NOT_READY = Symbol('not ready');
const notReady: Promise<typeof NOT_READY> = Promise.resolve(NOT_READY);

/**
 * The result of `pending` if it has already settled, else {@link NOT_READY}, after one microtask:
 * a settled promise's reaction is queued before the sentinel's. A rejection counts as not ready:
 * whoever awaits `pending` next gets it.
 */
async function ready<T>(pending: Promise<T>): Promise<T | typeof NOT_READY> {
  try {
    return await Promise.race([pending, notReady]);
  } catch {
    return NOT_READY;
  }
}

/** Checked stream options. */
interface StreamSettings {
  heartbeatMs: number;
  retryMs: number;
  serialize: (event: JobEvent) => string;
  eventName: ((event: JobEvent) => string | undefined) | undefined;
  endEvent: string | undefined;
  signal: AbortSignal | undefined;
}

function checkEndEvent(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new JobwireError('INVALID_REQUEST', '`endEvent` must be a non-empty string');
  encodeSSE({ event: value }); // refuses CR, LF and NUL with INVALID_REQUEST
  return value;
}

/** Default-serialised frames by event: streams that share an event object share its frame. */
const defaultFrames = new WeakMap<JobEvent, string>();

/** Open 200-streams per tracker, for {@link countOpenStreams}. */
const openCounts = new WeakMap<JobTracker, number>();

function addOpen(tracker: JobTracker, delta: 1 | -1): void {
  openCounts.set(tracker, (openCounts.get(tracker) ?? 0) + delta);
}

/**
 * How many job streams of this tracker are open now (opened with status 200 and not yet ended or
 * closed). A gauge for metrics, and a way to check that disconnected clients free their streams.
 */
export function countOpenStreams(tracker: JobTracker): number {
  return openCounts.get(tracker) ?? 0;
}

class Stream implements JobStream {
  readonly status: 200 | 204 | 404;
  readonly jobId: string;
  #closed = false;
  readonly #events: AsyncIterableIterator<JobEvent> | undefined;
  readonly #tracker: JobTracker;
  readonly #first: IteratorResult<JobEvent> | undefined;
  readonly #heartbeatMs: number;
  readonly #retryMs: number;
  readonly #serialize: (event: JobEvent) => string;
  readonly #eventName: ((event: JobEvent) => string | undefined) | undefined;
  readonly #endEvent: string | undefined;
  readonly #signal: AbortSignal | undefined;
  /** One heartbeat timer per stream, re-armed only when it fires (events just note the time). */
  #timer: NodeJS.Timeout | undefined;
  #lastSent = 0;
  #heartbeatDue = false;
  #wake: ((value: 'heartbeat' | 'closed') => void) | undefined;
  readonly #onAbort = (): void => this.close();
  #iterating = false;

  constructor(
    tracker: JobTracker,
    status: 200 | 204 | 404,
    jobId: string,
    events: AsyncIterableIterator<JobEvent> | undefined,
    first: IteratorResult<JobEvent> | undefined,
    options: StreamSettings,
  ) {
    this.#tracker = tracker;
    this.status = status;
    this.jobId = jobId;
    this.#events = events;
    this.#first = first;
    this.#heartbeatMs = options.heartbeatMs;
    this.#retryMs = options.retryMs;
    this.#serialize = options.serialize;
    this.#eventName = options.eventName;
    this.#endEvent = options.endEvent;
    this.#signal = options.signal;
    if (status !== 200) {
      this.#closed = true;
      return;
    }
    addOpen(tracker, 1);
    if (options.signal?.aborted) this.close();
    else options.signal?.addEventListener('abort', this.#onAbort, { once: true });
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    addOpen(this.#tracker, -1);
    this.#signal?.removeEventListener('abort', this.#onAbort);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#events?.return?.();
    this.#wake?.('closed');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#iterating) throw new JobwireError('INVALID_REQUEST', 'A job stream can be read once');
    this.#iterating = true;
    if (this.#closed || !this.#events) return;
    try {
      yield encodeSSE({ retry: this.#retryMs });
      let pending: Promise<IteratorResult<JobEvent>>;
      if (this.#first && !this.#first.done) {
        const batch = await this.#batch(this.#first.value);
        yield batch.text;
        if (batch.ended) return;
        pending = batch.pending;
      } else {
        pending = this.#events.next();
      }
      this.#lastSent = Date.now();
      this.#timer = setTimeout(this.#onTimer, this.#heartbeatMs);
      while (!this.#closed) {
        const next = await this.#nextOrHeartbeat(pending);
        if (this.#closed || next === 'closed') return;
        this.#lastSent = Date.now();
        if (next === 'heartbeat') {
          yield HEARTBEAT;
          continue;
        }
        if (next.done) return;
        const batch = await this.#batch(next.value);
        if (this.#closed) return;
        yield batch.text;
        if (batch.ended) return;
        pending = batch.pending;
      }
    } finally {
      this.close();
    }
  }

  /** Fires every heartbeatMs: a heartbeat is due when nothing went out for that long. */
  readonly #onTimer = (): void => {
    if (this.#closed) return;
    const silent = Date.now() - this.#lastSent;
    if (silent >= this.#heartbeatMs) {
      this.#heartbeatDue = true;
      this.#wake?.('heartbeat');
      this.#timer = setTimeout(this.#onTimer, this.#heartbeatMs);
    } else {
      this.#timer = setTimeout(this.#onTimer, this.#heartbeatMs - silent);
    }
  };

  /**
   * The frame of `event`, followed by the frames of the events the iterator already holds (up to
   * {@link BATCH_CHARS}), as one string. `ended` when the stream is over (a terminal event, with
   * the end event after it, or the iterator's end); else `pending` is the next event's promise.
   */
  async #batch(event: JobEvent): Promise<{ text: string; ended: true } | { text: string; ended: false; pending: Promise<IteratorResult<JobEvent>> }> {
    const events = this.#events as AsyncIterableIterator<JobEvent>;
    let text = this.#frame(event);
    let last = event;
    for (;;) {
      if (isTerminalEvent(last)) return { text: this.#endEvent === undefined ? text : text + endFrame(this.#endEvent, last), ended: true };
      const pending = events.next();
      if (text.length >= BATCH_CHARS || this.#closed) return { text, ended: false, pending };
      const next = await ready(pending);
      if (next === NOT_READY) return { text, ended: false, pending };
      if (next.done) return { text, ended: true };
      last = next.value;
      text += this.#frame(last);
    }
  }

  #frame(event: JobEvent): string {
    if (this.#eventName) {
      const name = this.#eventName(event);
      return encodeSSE(name === undefined ? { id: event.seq, data: this.#serialize(event) } : { id: event.seq, event: name, data: this.#serialize(event) });
    }
    if (this.#serialize !== defaultSerialize) return encodeSSE({ id: event.seq, event: event.type, data: this.#serialize(event) });
    let frame = defaultFrames.get(event);
    if (frame === undefined) {
      frame = encodeSSE({ id: event.seq, event: event.type, data: defaultSerialize(event) });
      defaultFrames.set(event, frame);
    }
    return frame;
  }

  /** The next event, or 'heartbeat' when one is due, or 'closed'; the pending promise is kept, never dropped. */
  #nextOrHeartbeat(pending: Promise<IteratorResult<JobEvent>>): Promise<IteratorResult<JobEvent> | 'heartbeat' | 'closed'> {
    if (this.#heartbeatDue) {
      this.#heartbeatDue = false;
      return Promise.resolve('heartbeat');
    }
    return new Promise((resolve, reject) => {
      let settled = false;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        this.#wake = undefined;
        return true;
      };
      this.#wake = (value) => {
        if (!settle()) return;
        if (value === 'heartbeat') this.#heartbeatDue = false;
        resolve(value);
      };
      pending.then(
        (result) => {
          if (settle()) resolve(result);
        },
        (error: unknown) => {
          if (settle()) reject(error);
        },
      );
    });
  }
}

/**
 * Open an SSE stream for a job, replaying after `lastEventId`. Iterate the result for frames:
 * `retry:` first, then `id: <seq>`, `event: <type>`, `data: <JSON>` per event (status events,
 * `output` and `gap` alike), heartbeat comments in silences; it ends after the terminal event (and
 * the `endEvent`, when one is set). Events that are already waiting come as one string of several
 * frames, so a burst of output goes out in one write.
 *
 * @throws JobwireError `INVALID_REQUEST` for a malformed `lastEventId`, delay or `endEvent`, or a
 * `job` of another id.
 * @example
 * ```ts
 * const stream = await openJobStream(tracker, id, { lastEventId: request.headers.get('last-event-id') });
 * return toSSEResponse(stream);
 * ```
 */
export async function openJobStream(tracker: JobTracker, id: string, options: JobStreamOptions = {}): Promise<JobStream> {
  const afterSeq = parseLastEventId(options.lastEventId);
  const settings: StreamSettings = {
    heartbeatMs: checkDelay(options.heartbeatMs ?? 15_000, 'heartbeatMs'),
    retryMs: checkDelay(options.retryMs ?? 2_000, 'retryMs'),
    serialize: options.serialize ?? defaultSerialize,
    eventName: options.eventName,
    endEvent: checkEndEvent(options.endEvent),
    signal: options.signal,
  };
  if (options.job !== undefined && options.job.id !== id) {
    throw new JobwireError('INVALID_REQUEST', `\`job\` is the snapshot of job ${String(options.job.id)}, not of ${id}`);
  }
  const job = options.job ?? (await tracker.get(id));
  if (!job) return new Stream(tracker, 404, id, undefined, undefined, settings);
  const events = tracker.events(id, { afterSeq, signal: options.signal });
  if (!isTerminalStatus(job.status)) return new Stream(tracker, 200, id, events, undefined, settings);
  // A finished job: anything left to replay? If not, the client has seen the end.
  let first: IteratorResult<JobEvent>;
  try {
    first = await events.next();
  } catch (error) {
    if (error instanceof JobwireError && error.code === 'JOB_NOT_FOUND') return new Stream(tracker, 404, id, undefined, undefined, settings);
    throw new JobwireError('INVALID_REQUEST', messageOf(error), { cause: error });
  }
  if (first.done) return new Stream(tracker, 204, id, undefined, undefined, settings);
  return new Stream(tracker, 200, id, events, first, settings);
}
