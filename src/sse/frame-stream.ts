import { JobwireError } from '../errors.js';
import type { JobEvent } from '../job.js';
import { onTrackerClose } from '../tracker/close-hooks.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { encodeSSE, encodeSSEComment } from './encode.js';
import { addOpenStream } from './open-streams.js';

/** What a {@link FrameStream} sends: a source of events, how each becomes a frame, and where it ends. */
export interface FrameSource {
  /** The events, in the order they go out; `done` ends the stream; `return()` frees them. */
  readonly events: AsyncIterator<JobEvent>;
  /** An event already taken from `events` (to decide the status): it goes out first. */
  readonly first?: JobEvent | undefined;
  /** The frame of an event. */
  frame(event: JobEvent): string;
  /**
   * Asked after each event is framed: `undefined` while the stream goes on; once it is over, the
   * text that ends it (an end event, or `''`). The stream then sends it and stops without reading
   * `events` again.
   */
  ending(event: JobEvent): string | undefined;
  /**
   * The events come from the tracker's own listeners, not its event hub (which ends its iterators
   * when the tracker closes): the stream then ends when the tracker's `close()` starts.
   */
  readonly endsWithTracker?: boolean;
}

/** The settings a {@link FrameStream} needs. */
export interface FrameSettings {
  heartbeatMs: number;
  retryMs: number;
  signal: AbortSignal | undefined;
  /** What the stream is called in its errors: 'A job stream can be read once'. */
  name: string;
}

const HEARTBEAT = encodeSSEComment('heartbeat');

/**
 * Frames already waiting are sent together, up to about this many characters: a burst of small
 * output events then costs one write (one `enqueue`, one chunk of the HTTP body) instead of one
 * each. Past it, the rest waits for the next pull, so a slow client still holds back the stream.
 */
const BATCH_CHARS = 64 * 1024;

/** What {@link ready} answers for an iterator result that is not there yet. */
const NOT_READY = Symbol('not ready');

/**
 * Microtasks an event already on its way may take to arrive and still join the batch: one for an
 * event an iterator holds, a few more for one that comes through another iterator (several jobs'
 * events merged).
 */
const READY_TICKS = 3;

async function afterTicks(): Promise<typeof NOT_READY> {
  for (let i = 1; i < READY_TICKS; i++) await undefined;
  return NOT_READY;
}

/**
 * The result of `pending` if it settles within {@link READY_TICKS} microtasks, else
 * {@link NOT_READY}. A rejection counts as not ready: whoever awaits `pending` next gets it.
 */
async function ready<T>(pending: Promise<T>): Promise<T | typeof NOT_READY> {
  try {
    return await Promise.race([pending, afterTicks()]);
  } catch {
    return NOT_READY;
  }
}

type Batch = { text: string; ended: true } | { text: string; ended: false; pending: Promise<IteratorResult<JobEvent>> };

/**
 * The machinery every event stream shares: `retry:` first, the frames of the source's events (those
 * already waiting batched into one string), a heartbeat comment after each `heartbeatMs` of
 * silence, `close()` and the abort signal (and the tracker's close, for a source that
 * `endsWithTracker`) freeing everything at once, and the count of open streams. A status other
 * than 200 makes a stream that is closed from the start and sends nothing.
 */
export class FrameStream implements AsyncIterable<string> {
  readonly status: 200 | 204 | 404;
  #closed = false;
  readonly #tracker: JobTracker;
  readonly #source: FrameSource | undefined;
  readonly #settings: FrameSettings;
  /** One heartbeat timer per stream, re-armed only when it fires (events just note the time). */
  #timer: NodeJS.Timeout | undefined;
  #lastSent = 0;
  #heartbeatDue = false;
  #wake: ((value: 'heartbeat' | 'closed') => void) | undefined;
  readonly #onAbort = (): void => this.close();
  /** Unregisters the tracker-close hook of a source that `endsWithTracker`. */
  #offTrackerClose: (() => void) | undefined;
  #iterating = false;

  constructor(tracker: JobTracker, status: 200 | 204 | 404, source: FrameSource | undefined, settings: FrameSettings) {
    this.#tracker = tracker;
    this.status = status;
    this.#source = source;
    this.#settings = settings;
    if (status !== 200 || !source) {
      this.#closed = true;
      return;
    }
    addOpenStream(tracker, 1);
    if (settings.signal?.aborted) {
      this.close();
      return;
    }
    settings.signal?.addEventListener('abort', this.#onAbort, { once: true });
    if (source.endsWithTracker) this.#offTrackerClose = onTrackerClose(tracker, () => this.close());
  }

  /** True once the stream ended or was closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stop at once: frees the source (its subscriptions) and the heartbeat timer. Safe to call twice. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    addOpenStream(this.#tracker, -1);
    this.#settings.signal?.removeEventListener('abort', this.#onAbort);
    this.#offTrackerClose?.();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    void this.#source?.events.return?.();
    this.#wake?.('closed');
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    if (this.#iterating) throw new JobwireError('INVALID_REQUEST', `A ${this.#settings.name} can be read once`);
    this.#iterating = true;
    const source = this.#source;
    if (this.#closed || !source) return;
    try {
      yield encodeSSE({ retry: this.#settings.retryMs });
      let pending: Promise<IteratorResult<JobEvent>>;
      if (source.first !== undefined) {
        const batch = await this.#batch(source, source.first);
        yield batch.text;
        if (batch.ended) return;
        pending = batch.pending;
      } else {
        pending = source.events.next();
      }
      this.#lastSent = Date.now();
      this.#timer = setTimeout(this.#onTimer, this.#settings.heartbeatMs);
      while (!this.#closed) {
        const next = await this.#nextOrHeartbeat(pending);
        if (this.#closed || next === 'closed') return;
        this.#lastSent = Date.now();
        if (next === 'heartbeat') {
          yield HEARTBEAT;
          continue;
        }
        if (next.done) return;
        const batch = await this.#batch(source, next.value);
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
    const { heartbeatMs } = this.#settings;
    const silent = Date.now() - this.#lastSent;
    if (silent >= heartbeatMs) {
      this.#heartbeatDue = true;
      this.#wake?.('heartbeat');
      this.#timer = setTimeout(this.#onTimer, heartbeatMs);
    } else {
      this.#timer = setTimeout(this.#onTimer, heartbeatMs - silent);
    }
  };

  /**
   * The frame of `event`, followed by the frames of the events the source already holds (up to
   * {@link BATCH_CHARS}), as one string. `ended` when the stream is over (the source's ending, or
   * its end); else `pending` is the next event's promise.
   */
  async #batch(source: FrameSource, event: JobEvent): Promise<Batch> {
    let text = source.frame(event);
    let last = event;
    for (;;) {
      const ending = source.ending(last);
      if (ending !== undefined) return { text: text + ending, ended: true };
      const pending = source.events.next();
      if (text.length >= BATCH_CHARS || this.#closed) return { text, ended: false, pending };
      const next = await ready(pending);
      if (next === NOT_READY) return { text, ended: false, pending };
      if (next.done) return { text, ended: true };
      last = next.value;
      text += source.frame(last);
    }
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
