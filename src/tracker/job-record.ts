import type { JobErrorInfo } from '../errors.js';
import type { JobEvent, JobEventType, JobMetadata, JobSnapshot, JobStatus } from '../job.js';
import { isTerminalStatus } from '../job.js';

let cachedSecond = Number.NaN;
let cachedPrefix = '';
let cachedMs = Number.NaN;
let cachedIso = '';

/**
 * ISO 8601 for epoch ms, like `new Date(ms).toISOString()` but several times cheaper: the
 * `YYYY-MM-DDTHH:MM:SS.` part is computed once per second.
 */
export function isoTime(ms: number): string {
  if (ms === cachedMs) return cachedIso; // the times of one job are often the same millisecond
  const whole = Math.floor(ms);
  if (whole < 0 || whole > 253_402_300_799_999) return new Date(ms).toISOString(); // outside years 1970-9999
  const second = whole - (((whole % 1000) + 1000) % 1000);
  if (second !== cachedSecond) {
    cachedPrefix = new Date(second).toISOString().slice(0, 20);
    cachedSecond = second;
  }
  const milli = whole - second;
  cachedMs = ms;
  cachedIso = `${cachedPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
  return cachedIso;
}

/** One entry of a job's event log: just what changed, the snapshot is rebuilt from the record. */
export interface LogEntry {
  readonly seq: number;
  readonly type: JobEventType;
  readonly at: number;
  readonly status: JobStatus;
  readonly progress: number;
  readonly message: string | undefined;
}

/**
 * A job held in memory. Times are epoch milliseconds; snapshots and events are built on demand,
 * so a retained finished job costs a record and a handful of small log entries.
 */
export class JobRecord {
  status: JobStatus = 'queued';
  progress = 0;
  message: string | undefined = undefined;
  result: unknown = undefined;
  error: JobErrorInfo | undefined = undefined;
  startedAt: number | undefined = undefined;
  finishedAt: number | undefined = undefined;
  expiresAt: number | undefined = undefined;
  /** Bounded: status entries plus at most one progress entry after each. */
  log: LogEntry[] = [];
  /** The job's place in the run queue; emptied when the job ends, so a cancelled waiting job holds nothing there. */
  ticket: { record: JobRecord | undefined } | undefined = undefined;
  #controller: AbortController | undefined = undefined;
  #lastEvent: JobEvent | undefined = undefined;
  #aborted = false;
  #abortReason: unknown = undefined;
  timer: NodeJS.Timeout | undefined = undefined;
  subscribers: Set<{ push(entry: LogEntry): void }> | undefined = undefined;
  removed = false;

  constructor(
    readonly id: string,
    readonly order: number,
    readonly plugin: string,
    readonly input: unknown,
    readonly tenantId: string | undefined,
    readonly workspaceId: string | undefined,
    readonly metadata: JobMetadata,
    readonly priority: number,
    readonly timeoutMs: number | undefined,
    readonly idempotencyKey: string | undefined,
    readonly createdAt: number,
  ) {}

  /**
   * The signal handed to the plugin, created on first use: a plugin that never looks at it costs
   * no AbortController. Once aborted, every later signal is aborted with the same reason.
   */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /** Abort the job's signal (now, or when it is first asked for). */
  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  /** Drop the controller once the job has ended (a late reader gets a fresh one with the same state). */
  releaseSignal(): void {
    this.#controller = undefined;
  }

  get lastSeq(): number {
    return this.log.at(-1)?.seq ?? 0;
  }

  /** Append an entry for the record's current state; a progress entry replaces a progress entry before it. */
  append(type: JobEventType, at: number): LogEntry {
    const last = this.log.at(-1);
    const entry: LogEntry = { seq: (last?.seq ?? 0) + 1, type, at, status: this.status, progress: this.progress, message: this.message };
    if (type === 'progress' && last?.type === 'progress') this.log[this.log.length - 1] = entry;
    else this.log.push(entry);
    return entry;
  }

  /** The snapshot as of `entry` (the latest entry gives the current state). */
  snapshot(entry: LogEntry = this.log.at(-1) as LogEntry): JobSnapshot {
    const snapshot: JobSnapshot = {
      id: this.id,
      plugin: this.plugin,
      status: entry.status,
      progress: entry.progress,
      input: this.input,
      metadata: this.metadata,
      priority: this.priority,
      createdAt: isoTime(this.createdAt),
    };
    if (entry.message !== undefined) snapshot.message = entry.message;
    if (this.tenantId !== undefined) snapshot.tenantId = this.tenantId;
    if (this.workspaceId !== undefined) snapshot.workspaceId = this.workspaceId;
    if (entry.status !== 'queued' && this.startedAt !== undefined) snapshot.startedAt = isoTime(this.startedAt);
    if (isTerminalStatus(entry.status)) {
      if (entry.status === 'completed') snapshot.result = this.result;
      if (this.error !== undefined) snapshot.error = this.error;
      if (this.finishedAt !== undefined) snapshot.finishedAt = isoTime(this.finishedAt);
      if (this.expiresAt !== undefined && Number.isFinite(this.expiresAt)) snapshot.expiresAt = isoTime(this.expiresAt);
    }
    return snapshot;
  }

  /**
   * The event for a log entry. While the job is live, the latest one built is kept, so the many
   * streams following one job share one event object (and one serialised frame) per change.
   */
  event(entry: LogEntry): JobEvent {
    const cached = this.#lastEvent;
    if (cached !== undefined && cached.seq === entry.seq) return cached;
    const event: JobEvent = { seq: entry.seq, type: entry.type, jobId: this.id, at: isoTime(entry.at), job: this.snapshot(entry) };
    if (!isTerminalStatus(this.status)) this.#lastEvent = event;
    return event;
  }

  /** Forget the shared event (a finished job keeps no built events). */
  dropCachedEvent(): void {
    this.#lastEvent = undefined;
  }
}
