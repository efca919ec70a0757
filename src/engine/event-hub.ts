import type { JobRecord } from '../backend/job-record.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { isJobwireError, JobwireError, messageOf, type JobwireErrorCode } from '../errors.js';
import { isTerminalEventType, type JobEvent, type JobGapEvent, type JobOutputEvent, type JobStatusEvent } from '../job.js';
import { CHUNK_COST, firstSeqOf, isStringOutput, mergedOutput, readerGap } from '../output/output-events.js';
import { EventStream } from './event-stream.js';
import { snapshotOf } from './job-json.js';
import { abortReason } from './records.js';
import type { EngineHost } from './types.js';

/**
 * One `events()` iterator: replays the log after `afterSeq`, then follows live events, never
 * repeating a seq. `afterSeq` filters the replay only: live events that follow it are all delivered.
 */
class Reader {
  /** Events up to this seq were delivered or skipped on purpose. */
  #threshold: number;
  #caughtUp = false;
  /** Live events that arrived while the log was being read; undefined once caught up. */
  pending: LoggedEvent[] | undefined = [];

  constructor(
    readonly jobId: string,
    readonly stream: EventStream<LoggedEvent>,
    afterSeq: number,
  ) {
    this.#threshold = afterSeq;
  }

  live(event: LoggedEvent): void {
    if (this.pending) this.pending.push(event);
    else this.#push(event, this.#threshold);
  }

  /** Deliver the log, then what arrived meanwhile, in seq order, each seq once. */
  catchUp(log: readonly LoggedEvent[]): void {
    // What the reader had before this read: a gap in the log is cut to start after it (never after
    // a status event the log holds inside the dropped range, which says nothing of the output).
    const had = this.#threshold;
    for (const event of log) this.#push(event, had);
    const logEnd = log.at(-1)?.seq ?? 0;
    this.#threshold = this.#caughtUp ? Math.max(this.#threshold, logEnd) : logEnd;
    this.#caughtUp = true;
    const pending = (this.pending ?? []).sort((a, b) => a.seq - b.seq);
    this.pending = undefined;
    for (const event of pending) this.#push(event, this.#threshold);
    // The job has ended (even if the reader had seen the end already): nothing more will come.
    const last = pending.at(-1) ?? log.at(-1);
    if (last && isTerminalEventType(last.type)) this.stream.end();
  }

  /** Deliver `event` unless the reader has it; `had` is the last seq the reader had before the read that found it. */
  #push(event: LoggedEvent, had: number): void {
    if (event.seq <= this.#threshold) return;
    if (event.type === 'gap') {
      // Resuming inside the dropped range: the gap starts after what the reader has.
      const gap = event.event() as JobGapEvent;
      if (gap.fromSeq <= had) event = readerGap(gap.jobId, had + 1, gap.toSeq, gap.at);
    }
    this.#threshold = event.seq;
    this.stream.push(event);
  }
}

/** JSON sizes of the non-string chunks read so far (an event is shared by every reader). */
const jsonSizes = new WeakMap<LoggedEvent, number>();

/**
 * What an unread output event costs a reader: its chunk (a string's length — merged strings cost
 * the sum of theirs — or another value's JSON length) and `CHUNK_COST` for the event itself;
 * `undefined` for any other event. Never more than the store counts for the same chunks, so a
 * reader can always hold a replay of everything the store retains.
 */
function outputSize(event: LoggedEvent): number | undefined {
  if (event.type !== 'output') return undefined;
  const { chunk } = event.event() as JobOutputEvent;
  if (typeof chunk === 'string') return chunk.length + CHUNK_COST;
  let size = jsonSizes.get(event);
  if (size === undefined) jsonSizes.set(event, (size = JSON.stringify(chunk)?.length ?? 0));
  return size + CHUNK_COST;
}

/** The gap for a dropped output event, merged with the gap before it when there is one. */
function gapFor(dropped: LoggedEvent, before: LoggedEvent | undefined): { item: LoggedEvent; mergedWithBefore: boolean } {
  const { jobId, at } = dropped.event();
  if (before?.type === 'gap') {
    const { fromSeq } = before.event() as JobGapEvent;
    return { item: readerGap(jobId, fromSeq, dropped.seq, at), mergedWithBefore: true };
  }
  return { item: readerGap(jobId, firstSeqOf(dropped), dropped.seq, at), mergedWithBefore: false };
}

const streamSource = (onClose: (stream: EventStream<LoggedEvent>) => void, limitBytes: number) => ({
  build: (event: LoggedEvent): JobEvent => event.event(),
  isProgress: (event: LoggedEvent): boolean => event.type === 'progress',
  isTerminal: (event: LoggedEvent): boolean => isTerminalEventType(event.type),
  merge: mergedOutput,
  mergeable: isStringOutput,
  outputSize,
  isGap: (event: LoggedEvent): boolean => event.type === 'gap',
  gap: gapFor,
  limitBytes,
  onClose,
});

/**
 * Where the bus's deliveries go in this process: the tracker's listeners (`job:*`), the per-plugin
 * durations of `stats()`, and every open `events()` iterator. An iterator reads the job's log from
 * the store, then follows the bus; after a bus reconnect (`resync`) it re-reads the log, so a lost
 * delivery costs latency, never an event.
 */
export class EventHub {
  readonly #readLog: (id: string) => Promise<LoggedEvent[] | undefined>;
  readonly #host: EngineHost;
  readonly #ended: (jobId: string, seq: number, reason: () => JobwireError) => void;
  readonly #readers = new Map<string, Set<Reader>>();
  readonly #removals = new Map<string, () => void>();

  /**
   * `readLog` reads a job's whole log from the store (undefined when the job is gone); `ended` hears
   * of every job that ended or was removed, anywhere (seq -1 for a removal), with the reason lazily.
   */
  constructor(readLog: (id: string) => Promise<LoggedEvent[] | undefined>, host: EngineHost, ended: (jobId: string, seq: number, reason: () => JobwireError) => void) {
    this.#readLog = readLog;
    this.#host = host;
    this.#ended = ended;
  }

  /** An iterator over a job's events after `afterSeq`: the log first, then live. */
  events(id: string, afterSeq: number, signal: AbortSignal | undefined): EventStream<LoggedEvent> {
    const stream: EventStream<LoggedEvent> = new EventStream<LoggedEvent>(
      streamSource((closed) => {
        const readers = this.#readers.get(id);
        if (!readers) return;
        for (const reader of readers) if (reader.stream === closed) readers.delete(reader);
        if (readers.size === 0) this.#readers.delete(id);
      }, this.#host.settings.outputLimitBytes),
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

  /** Resolves once this process has heard of the removal of `id` (bounded wait). */
  removal(id: string, timeoutMs = 2_000): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      timer.unref();
      const removals = this.#removals;
      function done(): void {
        clearTimeout(timer);
        if (removals.get(id) === done) removals.delete(id);
        resolve();
      }
      removals.set(id, done);
    });
  }

  /** A bus delivery: an event appended anywhere. */
  event(event: LoggedEvent): void {
    try {
      const host = this.#host;
      if (isTerminalEventType(event.type)) {
        const record = event.record?.();
        if (record) {
          host.recordFinished(record.plugin, event.type, record.createdAt, record.startedAt, record.finishedAt ?? host.now());
        } else {
          const { job, at } = event.event() as JobStatusEvent;
          const startedAt = job.startedAt === undefined ? undefined : Date.parse(job.startedAt);
          host.recordFinished(job.plugin, event.type, Date.parse(job.createdAt), startedAt, Date.parse(job.finishedAt ?? at));
        }
        // How a cancel (or any end written elsewhere) reaches the process that runs the job.
        const type = event.type;
        this.#ended(event.jobId, event.seq, () => {
          const error = record?.error ?? (event.event() as JobStatusEvent).job.error;
          return abortReason((error?.code ?? 'CANCELLED') as JobwireErrorCode, error?.message ?? `Job ${type} elsewhere`);
        });
      }
      if (host.listening(event.type)) host.emit(event.event());
      const readers = this.#readers.get(event.jobId);
      if (readers) for (const reader of [...readers]) reader.live(event);
    } catch (error) {
      this.#host.logger.error({ jobId: event.jobId, err: error }, `jobwire: could not deliver an event: ${messageOf(error)}`);
    }
  }

  /** A bus delivery: a job was deleted anywhere. */
  removed(record: JobRecord): void {
    this.#ended(record.id, -1, () => abortReason('CANCELLED', 'Job removed'));
    if (this.#host.listening('removed')) {
      try {
        this.#host.emitRemoved(record.id, () => snapshotOf(record));
      } catch (error) {
        this.#host.logger.error({ jobId: record.id, err: error }, `jobwire: could not announce a removal: ${messageOf(error)}`);
      }
    }
    if (this.#removals.size > 0) this.#removals.get(record.id)?.();
    if (this.#readers.size === 0) return;
    const readers = this.#readers.get(record.id);
    if (readers) for (const reader of [...readers]) reader.stream.end();
  }

  /** The bus came back after a break: every open iterator re-reads its job's log. */
  resync(): void {
    for (const readers of this.#readers.values()) {
      for (const reader of readers) {
        reader.pending ??= [];
        void this.#catchUp(reader);
      }
    }
  }

  /** End every open iterator (the tracker closed its bus). */
  close(): void {
    for (const readers of this.#readers.values()) for (const reader of readers) reader.stream.end();
    this.#readers.clear();
    for (const done of [...this.#removals.values()]) done();
  }

  async #catchUp(reader: Reader): Promise<void> {
    let log: LoggedEvent[] | undefined;
    try {
      log = await this.#readLog(reader.jobId);
    } catch (error) {
      reader.stream.fail(isJobwireError(error) ? error : new JobwireError('UNAVAILABLE', `Could not read the events of job ${reader.jobId}: ${messageOf(error)}`, { cause: error }));
      return;
    }
    if (log === undefined) {
      reader.stream.fail(new JobwireError('JOB_NOT_FOUND', `Unknown job ${reader.jobId}`));
      return;
    }
    reader.catchUp(log);
  }
}
