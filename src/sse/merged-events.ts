import { isJobwireError } from '../errors.js';
import { isTerminalEventType, type JobEvent, type TerminalStatus } from '../job.js';

/** One job's events in a {@link MergedEvents}. */
export interface MergedPart {
  jobId: string;
  /** The job's events (`tracker.events`): they end after its terminal event. */
  events: AsyncIterator<JobEvent>;
  /** An event already taken from `events`: it goes out first. */
  first?: JobEvent | undefined;
}

/** What a part's last `next()` gave, waiting to be taken. */
type Settled = { part: MergedPart; result: IteratorResult<JobEvent> } | { part: MergedPart; error: unknown };

/**
 * The events of several jobs as one iterator, in the order they arrive. Each job's iterator is
 * asked for one event at a time, and asked again only once that event was taken: what a slow reader
 * has not read stays in the job's own iterator, where progress coalesces and output is bounded
 * (a `gap` past `outputLimitBytes`), so the merge itself never holds more than one event per job.
 *
 * A job's part ends after its terminal event (its iterator is returned then), or when its iterator
 * ends without one (the job was removed, or the tracker closed). The merge ends when every part
 * has ended. A job that went away before its events could be read (`JOB_NOT_FOUND`) ends its part;
 * any other error of a job's iterator ends the merge with that error.
 */
export class MergedEvents implements AsyncIterator<JobEvent> {
  /** Parts whose iterator may still give events. */
  readonly #active = new Set<MergedPart>();
  /** What the parts gave, in arrival order, not yet taken. */
  readonly #settled: Settled[] = [];
  #head = 0;
  /** Terminal statuses of the jobs whose terminal event was taken. */
  readonly #ended = new Map<string, TerminalStatus>();
  #waiter: { resolve: (result: IteratorResult<JobEvent>) => void; reject: (error: unknown) => void } | undefined;
  #closed = false;

  constructor(parts: readonly MergedPart[]) {
    for (const part of parts) {
      this.#active.add(part);
      if (part.first === undefined) this.#pull(part);
      else this.#settled.push({ part, result: { done: false, value: part.first } });
    }
  }

  /** Whether every part has ended (the merge is over). */
  get over(): boolean {
    return this.#active.size === 0;
  }

  /** The terminal status of each job whose terminal event was taken, by job id. */
  get ended(): ReadonlyMap<string, TerminalStatus> {
    return this.#ended;
  }

  next(): Promise<IteratorResult<JobEvent>> {
    try {
      const result = this.#poll();
      if (result) return Promise.resolve(result);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  /**
   * The next event (or the end) when there is one to give now, else `undefined`.
   * @throws what a job's iterator failed with, other than `JOB_NOT_FOUND` (the merge is then over).
   */
  #poll(): IteratorResult<JobEvent> | undefined {
    for (;;) {
      if (this.#closed) return { done: true, value: undefined };
      const settled = this.#take();
      if (settled === undefined) return this.#active.size === 0 ? { done: true, value: undefined } : undefined;
      const { part } = settled;
      if ('error' in settled) {
        // Removed before its log could be read: the job is over for this stream.
        if (isJobwireError(settled.error) && settled.error.code === 'JOB_NOT_FOUND') {
          this.#active.delete(part);
          continue;
        }
        void this.return();
        throw settled.error;
      }
      const { result } = settled;
      if (result.done) {
        this.#active.delete(part);
        continue;
      }
      const event = result.value;
      if (isTerminalEventType(event.type)) {
        this.#ended.set(part.jobId, event.type);
        this.#active.delete(part);
        void part.events.return?.();
      } else {
        this.#pull(part);
      }
      return result;
    }
  }

  /** Stop every job's iterator at once; a pending `next()` resolves `done`. */
  return(): Promise<IteratorResult<JobEvent>> {
    if (!this.#closed) {
      this.#closed = true;
      for (const part of this.#active) void part.events.return?.();
      this.#active.clear();
      this.#settled.length = 0;
      this.#head = 0;
      const waiter = this.#waiter;
      this.#waiter = undefined;
      waiter?.resolve({ done: true, value: undefined });
    }
    return Promise.resolve({ done: true, value: undefined });
  }

  #take(): Settled | undefined {
    if (this.#head >= this.#settled.length) return undefined;
    const settled = this.#settled[this.#head];
    this.#head++;
    if (this.#head === this.#settled.length) {
      this.#settled.length = 0;
      this.#head = 0;
    }
    return settled;
  }

  /** Ask a part for its next event; what it gives joins the queue and wakes a waiting reader. */
  #pull(part: MergedPart): void {
    part.events.next().then(
      (result) => this.#arrive({ part, result }),
      (error: unknown) => this.#arrive({ part, error }),
    );
  }

  #arrive(settled: Settled): void {
    if (this.#closed) return;
    this.#settled.push(settled);
    const waiter = this.#waiter;
    if (!waiter) return;
    this.#waiter = undefined; // before polling: a failure returns the merge, which must not settle it as `done`
    let result: IteratorResult<JobEvent> | undefined;
    try {
      result = this.#poll();
    } catch (error) {
      waiter.reject(error);
      return;
    }
    if (result === undefined) this.#waiter = waiter;
    else waiter.resolve(result);
  }
}
