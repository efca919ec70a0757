import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, CreateLimits, CreateResult, JobChange, JobStore, OutputAppend, RecordPage, StoreListQuery } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { JobwireError, type JobErrorInfo } from '../errors.js';
import { eventOf } from '../engine/job-json.js';
import { jobCounts } from '../engine/job-counts.js';
import { idempotencyScope } from '../engine/idempotency.js';
import { isTerminalStatus, type JobEvent, type JobStatus, type JobStatusEventType } from '../job.js';
import { firstSeqOfBatch, gapEvent, lastSeqOf, mergeLog, outputEvent, outputEventsOf } from '../output/output-events.js';
import { keptTail } from '../output/kept-tail.js';
import { decodeCursor, encodeCursor, OrderedIndex } from '../ordered-index.js';
import type { JobCounts } from '../tracker/types.js';
import { ExpiryQueue } from './expiry-queue.js';
import type { MemoryBus } from './memory-bus.js';
import { matchesListFilter } from '../backend/list-filter.js';

/** One log entry: just what differs between a job's events (the rest is the job's record). */
interface Entry {
  readonly seq: number;
  readonly type: JobStatusEventType;
  readonly at: number;
  readonly status: JobStatus;
  readonly progress: number;
  readonly message: string | undefined;
  readonly startedAt: number | undefined;
  readonly attempt: number;
  readonly runAt: number | undefined;
  readonly lastError: JobErrorInfo | undefined;
}

/**
 * A job held in memory: its current record, its place in the listing, its compact log. The id,
 * status and expiry are kept on the slot too: the sweep reads only them, and a record (replaced at
 * every change) lies elsewhere in the heap.
 */
/** One append of output, as the memory store keeps it: the chunks' values, from seq `from`. */
interface OutputBatch {
  readonly from: number;
  readonly at: number;
  readonly values: readonly unknown[];
  /** What the chunks count against `limitBytes` (`chunkCost` of each). */
  readonly bytes: number;
}

/** A job's output: its retained batches (from `head`), their bytes, and what was dropped. */
class SlotOutput {
  readonly batches: OutputBatch[] = [];
  head = 0;
  bytes = 0;
  /** The seqs dropped past the limit, and when the last ones were. */
  gap: { fromSeq: number; toSeq: number; at: number } | undefined;

  /**
   * Keep an appended batch, dropping the oldest output past `limitBytes`: older batches whole; a
   * batch that alone is past the limit keeps only its newest chunks that fit (and every older batch
   * goes), so what is kept is always the newest output, in one piece.
   */
  add(append: OutputAppend): void {
    const { chunks, limitBytes, at } = append;
    const { first, keptBytes: bytes } = keptTail(append);
    const from = firstSeqOfBatch(append);
    if (first > 0 || from > append.afterSeq + 1) {
      // The batch alone is past the limit, or its run dropped chunks before it: those, its oldest
      // chunks and every older batch are dropped.
      this.#drop(this.batches.length, at);
      this.gap = { fromSeq: this.gap?.fromSeq ?? append.afterSeq + 1, toSeq: from + first - 1, at };
    }
    if (first === chunks.length) return;
    const values = new Array<unknown>(chunks.length - first);
    for (let i = first; i < chunks.length; i++) values[i - first] = (chunks[i] as { value: unknown }).value;
    this.batches.push({ from: from + first, at, values, bytes });
    this.bytes += bytes;
    let keep = this.head;
    let held = this.bytes;
    while (held > limitBytes && keep < this.batches.length) held -= (this.batches[keep++] as OutputBatch).bytes;
    this.#drop(keep, at);
  }

  /** Drop the retained batches before index `end`, widening the gap. */
  #drop(end: number, at: number): void {
    while (this.head < end) {
      const dropped = this.batches[this.head++] as OutputBatch;
      this.bytes -= dropped.bytes;
      this.gap = { fromSeq: this.gap?.fromSeq ?? dropped.from, toSeq: dropped.from + dropped.values.length - 1, at };
    }
    if (this.head > 64 && this.head * 2 > this.batches.length) {
      this.batches.splice(0, this.head);
      this.head = 0;
    }
  }

  events(jobId: string): LoggedEvent[] {
    const events: LoggedEvent[] = [];
    for (let b = this.head; b < this.batches.length; b++) {
      const { from, at, values } = this.batches[b] as OutputBatch;
      for (let i = 0; i < values.length; i++) events.push(outputEvent(jobId, from + i, at, values[i], from));
    }
    return events;
  }
}

class Slot {
  removed = false;
  readonly log: Entry[] = [];
  /** Output chunks, once the plugin wrote some. */
  output: SlotOutput | undefined = undefined;
  /** The event of the latest entry while the job is live, shared by every reader (one build, one SSE frame). */
  latest: SlotEvent | undefined = undefined;
  readonly id: string;
  status: JobStatus;
  expiresAt: number | undefined;

  constructor(
    public record: JobRecord,
    readonly order: number,
    /** The idempotency scope the job holds, if it has a key. */
    readonly scope: string | undefined,
  ) {
    this.id = record.id;
    this.status = record.status;
    this.expiresAt = record.expiresAt;
  }

  /**
   * The record as of `entry`: the current one for the last entry, else the record with the entry's
   * state (an entry before the last is never terminal).
   */
  recordAt(entry: Entry): JobRecord {
    const record = this.record;
    if (entry.seq === record.seq) return record;
    const { status, progress, message, startedAt, attempt, runAt, lastError } = entry;
    return { ...record, status, progress, message, startedAt, attempt, runAt, lastError, result: undefined, error: undefined, finishedAt: undefined, expiresAt: undefined, seq: entry.seq, event: entry.type };
  }

  eventAt(entry: Entry): SlotEvent {
    const latest = this.latest;
    return latest !== undefined && latest.seq === entry.seq ? latest : new SlotEvent(this, entry);
  }
}

/** A log entry as a {@link LoggedEvent}: the JobEvent is built on first use, once. */
class SlotEvent implements LoggedEvent {
  readonly jobId: string;
  readonly seq: number;
  readonly type: JobStatusEventType;
  #built: JobEvent | undefined;

  constructor(
    private readonly slot: Slot,
    private readonly entry: Entry,
  ) {
    this.jobId = slot.record.id;
    this.seq = entry.seq;
    this.type = entry.type;
  }

  event(): JobEvent {
    this.#built ??= eventOf(this.record(), this.entry.at);
    return this.#built;
  }

  record(): JobRecord {
    return this.slot.recordAt(this.entry);
  }
}

const OK: CommitResult = Object.freeze({ ok: true });

/**
 * Jobs and logs in this process's memory. A retained finished job costs its record and a few
 * small log entries; snapshots and events are built only when read. Expired jobs are kept in a
 * heap by expiry, so a sweep costs O(expired), and a reader never sees one (it is removed on sight).
 */
export class MemoryStore implements JobStore {
  readonly inProcess = true;
  readonly #bus: MemoryBus;
  readonly #slots = new Map<string, Slot>();
  readonly #order = new OrderedIndex<Slot>();
  readonly #expiry = new ExpiryQueue<Slot>();
  readonly #keys = new Map<string, Slot>();
  /** Queued jobs with a `runAt` (delayed, or waiting for a retry): what `counts()` reads `delayed` from. */
  readonly #delayed = new Set<Slot>();
  readonly #counts: Record<JobStatus, number> = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };

  constructor(bus: MemoryBus) {
    this.#bus = bus;
  }

  create(record: JobRecord, at: number, limits: CreateLimits): Promise<CreateResult> {
    const scope = record.idempotencyKey === undefined ? undefined : idempotencyScope(record.tenantId, record.idempotencyKey);
    if (scope !== undefined) {
      const existing = this.#keys.get(scope);
      if (existing && this.#alive(existing, limits.now)) return Promise.resolve({ outcome: 'existing', record: existing.record });
    }
    if (this.#counts.queued >= limits.maxQueued) return Promise.resolve({ outcome: 'full' });
    const slot = new Slot(record, this.#order.takeOrder(), scope);
    this.#slots.set(record.id, slot);
    this.#order.push(slot);
    if (scope !== undefined) this.#keys.set(scope, slot);
    this.#counts[record.status]++;
    this.#trackDelay(slot, record);
    this.#append(slot, record, at, false);
    return Promise.resolve({ outcome: 'created' });
  }

  get(id: string, now: number): Promise<JobRecord | undefined> {
    return Promise.resolve(this.#find(id, now)?.record);
  }

  commit(change: JobChange): Promise<CommitResult> {
    const { record } = change;
    const slot = this.#slots.get(record.id);
    if (!slot || slot.removed) return Promise.resolve({ ok: false, current: undefined });
    const previous = slot.record;
    if (previous.seq !== record.seq - 1) return Promise.resolve({ ok: false, current: previous });
    slot.record = record;
    if (previous.status !== record.status) {
      this.#counts[previous.status]--;
      this.#counts[record.status]++;
      slot.status = record.status;
    }
    if (record.runAt !== previous.runAt || record.status !== previous.status) this.#trackDelay(slot, record);
    if (record.expiresAt !== slot.expiresAt) {
      slot.expiresAt = record.expiresAt;
      if (record.expiresAt !== undefined) this.#expiry.push(slot);
    }
    this.#append(slot, record, change.at, change.replacesLast);
    return Promise.resolve(OK);
  }

  append(batch: OutputAppend): Promise<CommitResult> {
    const slot = this.#slots.get(batch.jobId);
    if (!slot || slot.removed) return Promise.resolve({ ok: false, current: undefined });
    const previous = slot.record;
    if (previous.seq !== batch.afterSeq) return Promise.resolve({ ok: false, current: previous });
    slot.record = { ...previous, seq: lastSeqOf(batch), event: 'output' };
    (slot.output ??= new SlotOutput()).add(batch);
    for (const event of outputEventsOf(batch)) this.#bus.event(event);
    return Promise.resolve(OK);
  }

  log(id: string, now: number): Promise<LoggedEvent[] | undefined> {
    const slot = this.#find(id, now);
    if (!slot) return Promise.resolve(undefined);
    const status = slot.log.map((entry) => slot.eventAt(entry));
    const { output } = slot;
    if (!output) return Promise.resolve(status);
    const gap = output.gap && gapEvent(slot.id, output.gap.fromSeq, output.gap.toSeq, output.gap.at);
    return Promise.resolve(mergeLog(status, output.events(slot.id), gap));
  }

  list(query: StoreListQuery): Promise<RecordPage> {
    let before: number | undefined;
    if (query.cursor !== undefined) {
      before = decodeCursor(query.cursor);
      if (before === undefined) return Promise.reject(new JobwireError('INVALID_REQUEST', 'Invalid cursor'));
    }
    this.sweep(query.now, Infinity); // readers never see a job past its TTL
    const records: JobRecord[] = [];
    let last: Slot | undefined;
    let more = false;
    this.#order.forEachNewestFirst(before, (slot) => {
      const { record } = slot;
      if (!matchesListFilter(query, record)) return true;
      if (records.length === query.limit) {
        more = true;
        return false;
      }
      records.push(record);
      last = slot;
      return true;
    });
    return Promise.resolve(more && last ? { records, nextCursor: encodeCursor(last.order) } : { records });
  }

  remove(id: string): Promise<JobRecord | undefined> {
    const slot = this.#slots.get(id);
    if (!slot || slot.removed) return Promise.resolve(undefined);
    this.#delete(slot);
    return Promise.resolve(slot.record);
  }

  expire(now: number, limit: number): Promise<string[]> {
    return Promise.resolve(this.#sweep(now, limit).map((slot) => slot.id));
  }

  counts(now: number): Promise<JobCounts> {
    let delayed = 0;
    for (const slot of this.#delayed) if ((slot.record.runAt ?? 0) > now) delayed++;
    return Promise.resolve(jobCounts((status) => this.#counts[status], delayed));
  }

  #trackDelay(slot: Slot, record: JobRecord): void {
    if (record.status === 'queued' && record.runAt !== undefined) this.#delayed.add(slot);
    else this.#delayed.delete(slot);
  }

  /** {@link expire}, synchronously: remove up to `limit` jobs expired at `now`; how many. */
  sweep(now: number, limit: number): number {
    return this.#sweep(now, limit).length;
  }

  #sweep(now: number, limit: number): Slot[] {
    const expired = this.#expiry.popExpired(now, (slot) => !slot.removed, limit);
    for (const slot of expired) this.#delete(slot);
    return expired;
  }

  #find(id: string, now: number): Slot | undefined {
    const slot = this.#slots.get(id);
    return slot && this.#alive(slot, now) ? slot : undefined;
  }

  #alive(slot: Slot, now: number): boolean {
    if (slot.removed) return false;
    const { expiresAt } = slot;
    if (expiresAt !== undefined && expiresAt <= now) {
      this.#delete(slot); // expired but not swept yet: it is gone for every reader
      return false;
    }
    return true;
  }

  #append(slot: Slot, record: JobRecord, at: number, replacesLast: boolean): void {
    const entry: Entry = {
      seq: record.seq,
      type: record.event as JobStatusEventType, // output is appended by append(), never committed
      at,
      status: record.status,
      progress: record.progress,
      message: record.message,
      startedAt: record.startedAt,
      attempt: record.attempt,
      runAt: record.runAt,
      lastError: record.lastError,
    };
    if (replacesLast && slot.log.length > 0) slot.log[slot.log.length - 1] = entry;
    else slot.log.push(entry);
    const event = new SlotEvent(slot, entry);
    // A finished job keeps no built event: its entries are all it costs.
    slot.latest = isTerminalStatus(record.status) ? undefined : event;
    this.#bus.event(event);
  }

  #delete(slot: Slot): void {
    if (slot.removed) return;
    slot.removed = true;
    this.#slots.delete(slot.id);
    this.#order.delete(slot);
    this.#counts[slot.status]--;
    this.#delayed.delete(slot);
    if (slot.scope !== undefined && this.#keys.get(slot.scope) === slot) this.#keys.delete(slot.scope);
    this.#bus.removed(slot.record);
  }
}
