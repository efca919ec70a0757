import { isTerminalEventType, type JobEvent, type JobSnapshot, type JobStatusEvent, type JobStatusEventType } from '../job.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import type { JobRemovedEvent } from '../tracker/types.js';
import { matchesListFilter, type ListFilter } from '../backend/list-filter.js';

/** Decides whether a job's events may be sent: `false` or a throw skips the job. */
export type JobVerdict = (job: JobSnapshot) => boolean | void | Promise<boolean | void>;

/** The tracker events a tenant-wide stream listens to: the status events, never `output` or `gap`. */
const STATUS_EVENTS = ['job:queued', 'job:started', 'job:progress', 'job:retrying', 'job:completed', 'job:failed', 'job:cancelled'] as const satisfies readonly `job:${JobStatusEventType}`[];

/** Past this many taken slots at the front of the queue, the queue is compacted. */
const COMPACT_AFTER = 1_024;

/**
 * A job this stream has met: its events go out (`allowed`), are skipped (`refused`), or wait while
 * `authorize` decides (the list, in order).
 */
type JobState = 'allowed' | 'refused' | JobStatusEvent[];


/**
 * The live status events of every job that matches a filter, from any process (the tracker's
 * `job:*` listeners), as one iterator. No replay: it starts with what happens after it opened.
 *
 * A job is met when an event of it matches the filter; from then on, all its status events go out
 * up to its terminal one, also those whose status no longer matches, so a page sees a job leave
 * its list. Each job is authorized once, before its first event goes out, and its events wait
 * (in order) meanwhile; a refused job is skipped without a word. What the stream remembers of a
 * job is forgotten after its terminal event or its removal.
 *
 * Bounded for a slow reader: a job's `progress` waiting unread is replaced by its newer one (the
 * job keeps its place); past `maxWaiting` events waiting in all, the iterator ends, dropping
 * them: the reader reconnects and lists the jobs again.
 */
export class LiveStatusEvents implements AsyncIterator<JobEvent> {
  readonly #tracker: JobTracker;
  readonly #filter: ListFilter;
  readonly #authorize: JobVerdict | undefined;
  readonly #maxWaiting: number;
  readonly #jobs = new Map<string, JobState>();
  /** Events waiting to be read; `undefined` marks taken slots before `#head`. */
  #queue: (JobStatusEvent | undefined)[] = [];
  #head = 0;
  /** Job id → the queue index of its `progress` that is its last event waiting, to replace it with a newer one. */
  readonly #progressAt = new Map<string, number>();
  /** Events queued or held for authorization. */
  #waiting = 0;
  #waiter: ((result: IteratorResult<JobEvent>) => void) | undefined;
  #closed = false;
  #overflowed = false;

  constructor(tracker: JobTracker, filter: ListFilter, authorize: JobVerdict | undefined, maxWaiting: number) {
    this.#tracker = tracker;
    this.#filter = filter;
    this.#authorize = authorize;
    this.#maxWaiting = maxWaiting;
    for (const type of STATUS_EVENTS) tracker.on(type, this.#onEvent);
    tracker.on('job:removed', this.#onRemoved);
  }

  /** True once the iterator ended because more than `maxWaiting` events were waiting. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  next(): Promise<IteratorResult<JobEvent>> {
    const event = this.#take();
    if (event) return Promise.resolve({ done: false, value: event });
    if (this.#closed) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Stop listening and drop what waits; a pending `next()` resolves `done`. */
  return(): Promise<IteratorResult<JobEvent>> {
    if (!this.#closed) {
      this.#closed = true;
      for (const type of STATUS_EVENTS) this.#tracker.off(type, this.#onEvent);
      this.#tracker.off('job:removed', this.#onRemoved);
      this.#jobs.clear();
      this.#queue = [];
      this.#head = 0;
      this.#progressAt.clear();
      this.#waiting = 0;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.({ done: true, value: undefined });
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  readonly #onEvent = (event: JobStatusEvent): void => {
    if (this.#closed) return;
    const { jobId } = event;
    const state = this.#jobs.get(jobId);
    const terminal = isTerminalEventType(event.type);
    if (state === undefined) {
      if (!matchesListFilter(this.#filter, event.job)) return;
      if (this.#authorize) {
        const held = [event];
        this.#jobs.set(jobId, held);
        this.#waiting++;
        this.#decide(event.job, held);
        this.#checkBound();
        return;
      }
      if (!terminal) this.#jobs.set(jobId, 'allowed');
      this.#enqueue(event);
    } else if (state === 'allowed') {
      if (terminal) this.#jobs.delete(jobId);
      this.#enqueue(event);
    } else if (state === 'refused') {
      if (terminal) this.#jobs.delete(jobId);
    } else {
      const last = state.at(-1);
      if (event.type === 'progress' && last?.type === 'progress') {
        state[state.length - 1] = event;
        return;
      }
      state.push(event);
      this.#waiting++;
      this.#checkBound();
    }
  };

  readonly #onRemoved = ({ jobId }: JobRemovedEvent): void => {
    const state = this.#jobs.get(jobId);
    if (state === undefined) return;
    if (Array.isArray(state)) this.#waiting -= state.length;
    this.#jobs.delete(jobId);
  };

  /** Ask `authorize` about a job once; its held events then go out in order, or are dropped. */
  #decide(job: JobSnapshot, held: JobStatusEvent[]): void {
    let verdict: Promise<boolean>;
    try {
      // A refusal by throwing is a refusal: the job is skipped, the stream goes on.
      verdict = Promise.resolve((this.#authorize as JobVerdict)(job)).then(
        (allowed) => allowed !== false,
        () => false,
      );
    } catch {
      verdict = Promise.resolve(false);
    }
    void verdict.then((allowed) => {
      if (this.#closed || this.#jobs.get(job.id) !== held) return; // closed, or the job was removed meanwhile
      this.#waiting -= held.length;
      const ended = isTerminalEventType((held.at(-1) as JobStatusEvent).type);
      if (ended) this.#jobs.delete(job.id);
      else this.#jobs.set(job.id, allowed ? 'allowed' : 'refused');
      if (allowed) for (const event of held) this.#enqueue(event);
    });
  }

  #enqueue(event: JobStatusEvent): void {
    const { jobId } = event;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter({ done: false, value: event });
      return;
    }
    const at = this.#progressAt.get(jobId);
    if (event.type === 'progress' && at !== undefined) {
      this.#queue[at] = event;
      return;
    }
    if (event.type === 'progress') this.#progressAt.set(jobId, this.#queue.length);
    else if (at !== undefined) this.#progressAt.delete(jobId);
    this.#queue.push(event);
    this.#waiting++;
    this.#checkBound();
  }

  #take(): JobStatusEvent | undefined {
    if (this.#head >= this.#queue.length) return undefined;
    const at = this.#head;
    const event = this.#queue[at] as JobStatusEvent;
    this.#queue[at] = undefined;
    this.#head++;
    this.#waiting--;
    if (this.#progressAt.get(event.jobId) === at) this.#progressAt.delete(event.jobId);
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > COMPACT_AFTER && this.#head * 2 > this.#queue.length) {
      this.#compact();
    }
    return event;
  }

  /** Drop the taken slots at the front; the waiting progress events move with their index. */
  #compact(): void {
    const shift = this.#head;
    this.#queue = this.#queue.slice(shift);
    this.#head = 0;
    for (const [jobId, at] of this.#progressAt) this.#progressAt.set(jobId, at - shift);
  }

  /** Past the bound, end: the reader has fallen too far behind to catch up event by event. */
  #checkBound(): void {
    if (this.#waiting <= this.#maxWaiting) return;
    this.#overflowed = true;
    void this.return();
  }
}
