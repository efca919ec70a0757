import type { JobwireError } from '../errors.js';
import { isStatusEvent, isTerminalStatus, type JobEvent, type JobSnapshot } from '../job.js';

/** A job's output as `useJob` accumulates it from the job's `output` and `gap` events. */
export interface JobOutputState {
  /** The string chunks joined, in order (JSON chunks are only in `chunks`). */
  readonly text: string;
  /**
   * Every chunk as the plugin wrote it, strings and JSON values, in order: a frozen array, the same
   * one from render to render until more output comes (a `useMemo` dependency).
   */
  readonly chunks: readonly unknown[];
  /** True once a `gap` event said some output cannot be had: `text` and `chunks` miss that part. */
  readonly gap: boolean;
}

/** What `useJob` shows of a job at one moment. */
export interface JobView {
  readonly job: JobSnapshot | undefined;
  readonly output: JobOutputState;
  readonly error: JobwireError | undefined;
  readonly reconnecting: boolean;
}

/** The output of a job nothing was written for (yet). */
export const NO_OUTPUT: JobOutputState = Object.freeze({ text: '', chunks: Object.freeze([]), gap: false });

/**
 * The output of one moment: `text` and `gap` as they are, and the first `chunks.length` chunks of
 * `chunks` (an array that only grows), copied when `chunks` is first read, then the same array.
 */
function outputState(text: string, chunks: readonly unknown[], gap: boolean): JobOutputState {
  const { length } = chunks;
  let copy: readonly unknown[] | undefined;
  return Object.freeze({
    text,
    get chunks() {
      return (copy ??= Object.freeze(chunks.slice(0, length)));
    },
    gap,
  });
}

/** The view of no job, or of a job whose first event has not arrived. */
export const EMPTY_VIEW: JobView = Object.freeze({ job: undefined, output: NO_OUTPUT, error: undefined, reconnecting: false });

/**
 * One job's events, folded into what `useJob` shows. It outlives a subscription: when React runs an
 * effect again for the same job (StrictMode, a hidden `<Activity>` shown again), the next
 * subscription resumes after {@link lastSeq}, and an event at or before it is never applied twice.
 *
 * A view costs O(1) to build, however long the output: `text` grows by each string chunk as it
 * comes, the output object is kept while no output came (a status or progress event, a reconnect),
 * and chunks are kept in one array that only grows. An output object's `chunks` is that array's
 * prefix of its moment, copied once, when it is first read: a render that reads only `text` never
 * copies, and reading `chunks` again gives the same array until more output comes.
 */
export class JobFeed {
  readonly #client: object;
  readonly #jobId: string;
  #job: JobSnapshot | undefined;
  readonly #chunks: unknown[] = [];
  #text = '';
  #gap = false;
  #lastSeq = 0;
  #ended = false;
  #error: { error: JobwireError; fromAction: boolean } | undefined;
  #reconnecting = false;
  /** The view as of the last change; undefined after a change until {@link view} builds it again. */
  #view: JobView | undefined;
  /** The output of the views, as of the last output or gap event; built again after one. */
  #output: JobOutputState = NO_OUTPUT;
  /** True after an output or gap event, until {@link view} builds {@link #output} again. */
  #outputChanged = false;
  /** Counts changes: a new value tells React to render. */
  #version = 0;

  constructor(client: object, jobId: string) {
    this.#client = client;
    this.#jobId = jobId;
  }

  /** True when this feed is about `jobId` as read through `client`. */
  isFor(client: object, jobId: string): boolean {
    return this.#client === client && this.#jobId === jobId;
  }

  /** The seq of the last event applied (0 before the first): where a new subscription resumes. */
  get lastSeq(): number {
    return this.#lastSeq;
  }

  /** True once the terminal event arrived, or following failed for good: nothing more will come. */
  get ended(): boolean {
    return this.#ended;
  }

  /** Changes with every change of the view. */
  get version(): number {
    return this.#version;
  }

  /** Fold in one event; false (and nothing changes) for an event at or before {@link lastSeq}. */
  apply(event: JobEvent): boolean {
    if (event.seq <= this.#lastSeq) return false;
    this.#lastSeq = event.seq;
    if (isStatusEvent(event)) {
      this.#job = event.job;
      if (isTerminalStatus(event.job.status)) this.#ended = true;
    } else if (event.type === 'output') {
      this.#chunks.push(event.chunk);
      if (typeof event.chunk === 'string') this.#text += event.chunk;
    } else {
      this.#gap = true;
    }
    if (!isStatusEvent(event)) this.#outputChanged = true;
    this.#changed();
    return true;
  }

  /** The connection failed or broke and the client reconnects (true), or it is back (false). False when that is no change. */
  setReconnecting(reconnecting: boolean): boolean {
    if (this.#reconnecting === reconnecting) return false;
    this.#reconnecting = reconnecting;
    this.#changed();
    return true;
  }

  /**
   * Show `error`. Following failed for good (`fromAction` false: an unknown job, a refusal), or a
   * `cancel`/`retry` request failed (`fromAction` true: cleared by the next one that succeeds).
   */
  fail(error: JobwireError, fromAction: boolean): void {
    if (!fromAction) {
      this.#ended = true;
      this.#reconnecting = false;
    }
    this.#error = { error, fromAction };
    this.#changed();
  }

  /** A `cancel` or `retry` request succeeded: the error of an earlier one is no longer news. False when there was none. */
  actionSucceeded(): boolean {
    if (!this.#error?.fromAction) return false;
    this.#error = undefined;
    this.#changed();
    return true;
  }

  /** The current view: the same object until the next change; its `output` the same until the next output or gap event. */
  view(): JobView {
    if (this.#outputChanged) {
      this.#outputChanged = false;
      this.#output = outputState(this.#text, this.#chunks, this.#gap);
    }
    this.#view ??= { job: this.#job, output: this.#output, error: this.#error?.error, reconnecting: this.#reconnecting };
    return this.#view;
  }

  #changed(): void {
    this.#view = undefined;
    this.#version++;
  }
}
