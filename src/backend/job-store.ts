import type { JobStatus } from '../job.js';
import type { JobCounts } from '../tracker/types.js';
import type { JobRecord } from './job-record.js';
import type { LoggedEvent } from './logged-event.js';

/** What {@link JobStore.create} is told besides the record. */
export interface CreateLimits {
  /**
   * Refuse (`full`) when this many jobs are `queued` already. `Infinity` for no limit. The engine
   * has already added the slots that would start the job at once (see `JobDispatcher.idleSlots`).
   */
  maxQueued: number;
  /** The engine's clock: a job whose `expiresAt` is at or before it is gone. */
  now: number;
}

/** The outcome of {@link JobStore.create}. */
export type CreateResult =
  | { outcome: 'created' }
  /** A live job of the same tenant holds the idempotency key: that job, unchanged. */
  | { outcome: 'existing'; record: JobRecord }
  | { outcome: 'full' };

/** One compare-and-set change of a job: the next record and the event it adds to the log. */
export interface JobChange {
  /** The record after the change. Its `seq` is the previous record's `seq + 1`; its `event` is the new event's type. */
  readonly record: JobRecord;
  /** When the change happened (the event's time), epoch ms. */
  readonly at: number;
  /**
   * True when the new event takes the place of the log's last entry instead of following it: a
   * progress report right after another one (the log keeps every status event and the latest
   * progress after each). The engine decides; the store obeys.
   */
  readonly replacesLast: boolean;
}

/** One chunk of a job's output, as the engine hands it to {@link JobStore.append}. */
export interface OutputChunk {
  /** What the plugin wrote: a string or a JSON value (already checked). An in-process store keeps it as it is. */
  readonly value: unknown;
  /** `JSON.stringify(value)`: what a store that keeps text stores (and parses back to `value`). */
  readonly json: string;
}

/** A batch of output chunks for {@link JobStore.append}. */
export interface OutputAppend {
  readonly jobId: string;
  /** The job's seq as the engine last wrote it: append only while the stored seq is still this. */
  readonly afterSeq: number;
  /**
   * Never empty, in the order written: they take the seqs after the dropped ones, `afterSeq +
   * dropped + 1` … `afterSeq + dropped + chunks.length` (`lastSeqOf(batch)`).
   */
  readonly chunks: readonly OutputChunk[];
  /**
   * Chunks written before these that the run dropped itself, past `limitBytes`, while the store
   * did not answer (the plugin kept writing): they take the seqs `afterSeq + 1` … `afterSeq +
   * dropped`, and the store records them as dropped — with all older output, as for the head of a
   * batch past the limit — and delivers a `gap` for them before the chunks. 0 or absent in the
   * common case.
   */
  readonly dropped?: number;
  /** When they were written, epoch ms (one time for the batch). */
  readonly at: number;
  /**
   * Retain at most this many bytes of the job's output, each chunk counted as `chunkCost(json)`
   * (the UTF-8 bytes of its JSON and 64 for the chunk itself; `outputBytes` sums a batch). Past it, drop the oldest output first (a store may drop whole batches; never a status
   * event) and remember the range of seqs dropped (see {@link JobStore.log}).
   */
  readonly limitBytes: number;
}

/** The outcome of {@link JobStore.commit}. */
export type CommitResult =
  | { ok: true }
  /** The job changed since the engine read it (its seq moved on): nothing was written. `current` is the job now, `undefined` when it is gone. */
  | { ok: false; current: JobRecord | undefined };

/** A checked list query, as the engine hands it to a store. */
export interface StoreListQuery {
  tenantId: string | undefined;
  workspaceId: string | undefined;
  /** Only these statuses; `undefined` for all. */
  statuses: ReadonlySet<JobStatus> | undefined;
  plugin: string | undefined;
  /** At most this many records (1..1000). */
  limit: number;
  /** The `nextCursor` of the previous page, as this store made it; `undefined` for the first page. */
  cursor: string | undefined;
  /** The engine's clock: jobs past their `expiresAt` are left out. */
  now: number;
}

/** One page of {@link JobStore.list}. */
export interface RecordPage {
  records: JobRecord[];
  /** Present when there may be more: an opaque string this store understands as `cursor`. */
  nextCursor?: string;
}

/**
 * Where jobs and their event logs live. One store may be shared by many processes (every API and
 * worker process of a deployment): every method must then be safe to call from all of them at
 * once, each one atomic in the database.
 *
 * The store never decides a job's life: the engine computes every record and event; the store
 * keeps them, checks the version on {@link commit}, and delivers what changed to every process
 * through the backend's {@link JobBus} (`event` for each appended event, in seq order per job;
 * `removed` for each deleted job). A store must deliver an event only once it is durable (a
 * reader that re-reads the log after hearing it finds it there).
 *
 * Run `testJobBackend` from `jobwire/testing` on a backend to check a store against this contract.
 */
export interface JobStore {
  /**
   * True for a store that answers in this process without I/O (the in-memory store): the engine
   * then skips the time bounds it puts on every other store's calls (`storeTimeoutMs`), and the
   * store stays readable after the tracker closes. Such a store must apply a `commit` before the
   * call returns (its promise only reports the outcome): a cancel then aborts the plugin at once. @default false
   */
  readonly inProcess?: boolean;

  /**
   * Store a new job and its first event (`queued`, seq 1), atomically: either all of it is written
   * and delivered, or nothing. Refuse when `record.idempotencyKey` is set and a live (not expired)
   * job of the same tenant (`record.tenantId`) holds it (→ `existing` with that job), or when
   * `limits.maxQueued` jobs are `queued` already (→ `full`). Checks and write are one atomic step
   * across processes: two concurrent creates with the same key never both create.
   */
  create(record: JobRecord, at: number, limits: CreateLimits): Promise<CreateResult>;

  /** The job's record, or `undefined` when it is unknown, removed, or past its `expiresAt` at `now`. */
  get(id: string, now: number): Promise<JobRecord | undefined>;

  /**
   * Compare-and-set: when the stored record's `seq` is `change.record.seq - 1`, replace it with
   * `change.record`, append the event (or replace the last log entry when `replacesLast`) and
   * deliver it; otherwise write nothing and return the record as it is now. Atomic across
   * processes: of two commits made from the same record, exactly one succeeds.
   */
  commit(change: JobChange): Promise<CommitResult>;

  /**
   * Compare-and-set for output: when the stored seq is `batch.afterSeq`, append the chunks as
   * `output` events numbered as {@link OutputAppend.chunks} says, make the job's seq `lastSeqOf(batch)` (and
   * its record's `event` `'output'`: {@link get}, {@link list} and a conflict's `current` return
   * the record so, though its other fields are unchanged), drop the oldest output past
   * `batch.limitBytes`, and deliver the chunks through the bus in order (one bus message may carry
   * the whole batch; the handlers still get one `event` per chunk). Otherwise write nothing and
   * return the record as it is now. Atomic across processes, as {@link commit}: the chunks land
   * whole or not at all, and a commit and an append made from the same seq never both succeed.
   * The job's status does not change; appending to a job that has ended is the engine's bug, not
   * the store's concern. Its cost must not grow with the number of readers.
   */
  append(batch: OutputAppend): Promise<CommitResult>;

  /**
   * The job's whole log in seq order, or `undefined` when the job is unknown, removed or expired
   * at `now`: every status event (and the latest progress after each), every retained `output`
   * event, and, when output was dropped (past `limitBytes`), one `gap` event whose `fromSeq` is
   * the first seq dropped and whose `seq` and `toSeq` are the last one dropped, placed at that seq.
   */
  log(id: string, now: number): Promise<LoggedEvent[] | undefined>;

  /** A page of records newest first (by creation), filtered; a cursor never skips or repeats a job while new ones are created. */
  list(query: StoreListQuery): Promise<RecordPage>;

  /** Delete the job, its log and everything that points at it (its idempotency key included) and deliver the removal. The record as it was, or `undefined` when there was none. */
  remove(id: string): Promise<JobRecord | undefined>;

  /**
   * Remove up to `limit` jobs whose `expiresAt` is at or before `now`, delivering each removal, and
   * return their ids. Concurrent calls from several processes remove each job once. It runs every
   * `sweepIntervalMs`: keep jobs ordered by expiry so that it costs O(expired), not O(all).
   */
  expire(now: number, limit: number): Promise<string[]>;

  /**
   * Jobs held now, by status (expired jobs not yet removed may still count), and `delayed`: the
   * `queued` ones whose `runAt` is after `now`.
   */
  counts(now: number): Promise<JobCounts>;
}
