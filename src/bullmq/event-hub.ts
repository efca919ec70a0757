import { JobwireError, messageOf } from '../errors.js';
import { isTerminalEventType, type JobEvent, type JobSnapshot, type TerminalStatus } from '../job.js';
import type { BackendHost } from '../tracker/backend.js';
import { EventStream } from '../tracker/event-stream.js';
import type { Bus, JobStore } from './job-store.js';

/** A cancel request on its way to the worker that runs the job. */
export interface CancelMessage {
  id: string;
  code: 'CANCELLED' | 'CLOSED';
  reason: string;
}

/**
 * One `events()` iterator: replays the log after `afterSeq`, then follows live events, never
 * repeating a seq. Like the in-memory backend, `afterSeq` filters the replay only: live events
 * that follow it are all delivered.
 */
class Reader {
  /** Events up to this seq were delivered or skipped on purpose. */
  #threshold: number;
  #caughtUp = false;
  /** Live events that arrived while the log was being read; undefined once caught up. */
  pending: JobEvent[] | undefined = [];

  constructor(
    readonly jobId: string,
    readonly stream: EventStream<JobEvent>,
    afterSeq: number,
  ) {
    this.#threshold = afterSeq;
  }

  live(event: JobEvent): void {
    if (this.pending) this.pending.push(event);
    else this.#push(event);
  }

  /** Deliver the log, then what arrived meanwhile, in seq order, each seq once. */
  catchUp(log: readonly JobEvent[]): void {
    for (const event of log) this.#push(event);
    const logEnd = log.at(-1)?.seq ?? 0;
    this.#threshold = this.#caughtUp ? Math.max(this.#threshold, logEnd) : logEnd;
    this.#caughtUp = true;
    const pending = (this.pending ?? []).sort((a, b) => a.seq - b.seq);
    this.pending = undefined;
    for (const event of pending) this.#push(event);
    // The job has ended (even if the reader had seen the end already): nothing more will come.
    const last = pending.at(-1) ?? log.at(-1);
    if (last && isTerminalEventType(last.type)) this.stream.end();
  }

  #push(event: JobEvent): void {
    if (event.seq <= this.#threshold) return;
    this.#threshold = event.seq;
    this.stream.push(event);
  }
}

/**
 * One Redis subscriber per process: job events from every process of the queue reach the
 * tracker's listeners and the `events()` iterators of this process; cancel requests reach the
 * runner. Pub/sub is at-most-once, so after a reconnect every open iterator re-reads its log.
 */
export class EventHub {
  readonly #bus: Bus;
  readonly #store: JobStore;
  readonly #host: BackendHost;
  readonly #onCancel: (message: CancelMessage) => void;
  readonly #readers = new Map<string, Set<Reader>>();
  readonly #removals = new Map<string, () => void>();

  constructor(bus: Bus, store: JobStore, host: BackendHost, onCancel: (message: CancelMessage) => void) {
    this.#bus = bus;
    this.#store = store;
    this.#host = host;
    this.#onCancel = onCancel;
  }

  async start(): Promise<void> {
    await this.#bus.start({
      event: (message) => this.#dispatch(message),
      cancel: (message) => this.#cancel(message),
      reconnected: () => this.#resync(), // messages may have been lost meanwhile
    });
  }

  /** An iterator over a job's events after `afterSeq`: the log first, then live. */
  events(id: string, afterSeq: number, signal: AbortSignal | undefined): EventStream<JobEvent> {
    const stream: EventStream<JobEvent> = new EventStream<JobEvent>(
      {
        build: (event) => event,
        isProgress: (event) => event.type === 'progress',
        isTerminal: (event) => isTerminalEventType(event.type),
        onClose: (closed) => {
          const readers = this.#readers.get(id);
          if (!readers) return;
          for (const reader of readers) if (reader.stream === closed) readers.delete(reader);
          if (readers.size === 0) this.#readers.delete(id);
        },
      },
      signal,
    );
    if (stream.closed) return stream;
    const reader = new Reader(id, stream, afterSeq);
    let readers = this.#readers.get(id);
    if (!readers) this.#readers.set(id, (readers = new Set()));
    readers.add(reader);
    void this.#catchUp(reader);
    return stream;
  }

  /** Resolves once this process has seen the removal of `id` announced (bounded wait). */
  removed(id: string, timeoutMs = 2_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const removals = this.#removals;
      function done(): void {
        clearTimeout(timer);
        removals.delete(id);
        resolve();
      }
      removals.set(id, done);
    });
  }

  async close(): Promise<void> {
    for (const readers of this.#readers.values()) for (const reader of readers) reader.stream.end();
    this.#readers.clear();
    for (const done of [...this.#removals.values()]) done();
  }

  async #catchUp(reader: Reader): Promise<void> {
    let log: JobEvent[] | undefined;
    try {
      log = await this.#store.log(reader.jobId, this.#host.now());
    } catch (error) {
      reader.stream.fail(new JobwireError('JOB_NOT_FOUND', `Could not read the events of job ${reader.jobId}: ${messageOf(error)}`, { cause: error }));
      return;
    }
    if (log === undefined) {
      reader.stream.fail(new JobwireError('JOB_NOT_FOUND', `Unknown job ${reader.jobId}`));
      return;
    }
    reader.catchUp(log);
  }

  #resync(): void {
    for (const readers of this.#readers.values()) {
      for (const reader of readers) {
        reader.pending ??= [];
        void this.#catchUp(reader);
      }
    }
  }

  #cancel(message: string): void {
    try {
      this.#onCancel(JSON.parse(message) as CancelMessage);
    } catch (error) {
      this.#host.logger.error({ err: error }, `jobwire: could not handle a cancel message: ${messageOf(error)}`);
    }
  }

  #dispatch(message: string): void {
    try {
      const parsed = JSON.parse(message) as JobEvent | { removed: string; job: JobSnapshot };
      if ('removed' in parsed) {
        this.#host.emitRemoved(parsed.removed, () => parsed.job);
        this.#removals.get(parsed.removed)?.();
        const readers = this.#readers.get(parsed.removed);
        if (readers) for (const reader of readers) reader.stream.end();
        return;
      }
      if (isTerminalEventType(parsed.type)) {
        const { job } = parsed;
        const startedAt = job.startedAt === undefined ? undefined : Date.parse(job.startedAt);
        this.#host.recordFinished(job.plugin, parsed.type as TerminalStatus, Date.parse(job.createdAt), startedAt, Date.parse(job.finishedAt ?? parsed.at));
      }
      if (this.#host.listening(parsed.type)) this.#host.emit(parsed);
      const readers = this.#readers.get(parsed.jobId);
      if (readers) for (const reader of [...readers]) reader.live(parsed);
    } catch (error) {
      this.#host.logger.error({ err: error }, `jobwire: could not handle an event message: ${messageOf(error)}`);
    }
  }
}
