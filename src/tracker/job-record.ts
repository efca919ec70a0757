import type { JobErrorInfo } from '../errors.js';
import type { JobEvent, JobEventType, JobMetadata, JobSnapshot, JobStatus } from '../job.js';
import { isTerminalStatus } from '../job.js';

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
  controller: AbortController | undefined = new AbortController();
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
      createdAt: new Date(this.createdAt).toISOString(),
    };
    if (entry.message !== undefined) snapshot.message = entry.message;
    if (this.tenantId !== undefined) snapshot.tenantId = this.tenantId;
    if (this.workspaceId !== undefined) snapshot.workspaceId = this.workspaceId;
    if (entry.status !== 'queued' && this.startedAt !== undefined) snapshot.startedAt = new Date(this.startedAt).toISOString();
    if (isTerminalStatus(entry.status)) {
      if (entry.status === 'completed') snapshot.result = this.result;
      if (this.error !== undefined) snapshot.error = this.error;
      if (this.finishedAt !== undefined) snapshot.finishedAt = new Date(this.finishedAt).toISOString();
      if (this.expiresAt !== undefined && Number.isFinite(this.expiresAt)) snapshot.expiresAt = new Date(this.expiresAt).toISOString();
    }
    return snapshot;
  }

  event(entry: LogEntry): JobEvent {
    return { seq: entry.seq, type: entry.type, jobId: this.id, at: new Date(entry.at).toISOString(), job: this.snapshot(entry) };
  }
}
