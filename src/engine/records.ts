import type { JobRecord } from '../backend/job-record.js';
import { JobwireError, type JobErrorInfo } from '../errors.js';
import type { JobEventType, JobMetadata, TerminalStatus } from '../job.js';
import { canTransition } from './transitions.js';

/** A checked submit, as the tracker hands it to the engine. */
export interface NewJob {
  plugin: string;
  /** Already parsed by the plugin's input schema. */
  input: unknown;
  tenantId: string | undefined;
  workspaceId: string | undefined;
  metadata: JobMetadata;
  priority: number;
  timeoutMs: number | undefined;
  idempotencyKey: string | undefined;
}

/** A new job's first record: `queued`, seq 1. Every field is present, so records keep one shape. */
export function queuedRecord(id: string, job: NewJob, timeoutMs: number | undefined, now: number): JobRecord {
  return {
    id,
    plugin: job.plugin,
    input: job.input,
    tenantId: job.tenantId,
    workspaceId: job.workspaceId,
    metadata: job.metadata,
    priority: job.priority,
    createdAt: now,
    timeoutMs,
    idempotencyKey: job.idempotencyKey,
    status: 'queued',
    progress: 0,
    message: undefined,
    result: undefined,
    error: undefined,
    startedAt: undefined,
    finishedAt: undefined,
    expiresAt: undefined,
    seq: 1,
    event: 'queued',
  };
}

/** The record after one more event; the status move is checked against the transition table. */
function next(record: JobRecord, event: JobEventType, changes: Partial<JobRecord>): JobRecord {
  const to = changes.status ?? record.status;
  if (to !== record.status && !canTransition(record.status, to)) {
    throw new JobwireError('INVALID_REQUEST', `Illegal job transition ${record.status} → ${to} (job ${record.id})`);
  }
  return { ...record, ...changes, seq: record.seq + 1, event };
}

/** A worker takes the job: `running`, stamped with its start. */
export function startedRecord(record: JobRecord, now: number): JobRecord {
  return next(record, 'started', { status: 'running', startedAt: now, message: undefined });
}

/** The job goes back to `queued` (its worker stopped), saying why. */
export function requeuedRecord(record: JobRecord, message: string): JobRecord {
  return next(record, 'queued', { status: 'queued', progress: 0, message, startedAt: undefined });
}

/** A progress report; `message` undefined keeps the last one. */
export function progressedRecord(record: JobRecord, progress: number, message: string | undefined): JobRecord {
  return next(record, 'progress', message === undefined ? { progress } : { progress, message });
}

/** The job ends as `status`, stamped with its end and its expiry (none when `ttlMs` is Infinity). */
export function endedRecord(record: JobRecord, status: TerminalStatus, at: number, ttlMs: number, end: { error?: JobErrorInfo; result?: unknown }): JobRecord {
  const changes: Partial<JobRecord> = { status, finishedAt: at, expiresAt: Number.isFinite(ttlMs) ? at + ttlMs : undefined, error: end.error };
  if (status === 'completed') Object.assign(changes, { result: end.result, progress: 100 });
  return next(record, status, changes);
}

/**
 * True when `current` is the record a write would have produced: a write whose answer was lost
 * (the connection dropped after it landed) is found done, not refused.
 */
export function sameChange(current: JobRecord, next: JobRecord): boolean {
  return current.seq === next.seq && current.event === next.event && current.status === next.status && current.startedAt === next.startedAt;
}
