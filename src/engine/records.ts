import type { JobRecord, JobTraceContext } from '../backend/job-record.js';
import { JobwireError, type JobErrorInfo, type JobwireErrorCode } from '../errors.js';
import type { JobMetadata, TerminalStatus } from '../job.js';
import type { BackoffPolicy, RetryPolicy } from '../retry/retry-policy.js';
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
  /** Tries in all; `undefined` for the plugin's `retry.attempts`, else 1. */
  attempts: number | undefined;
  /** `undefined` for the plugin's `retry.backoff`, else the default. */
  backoff: BackoffPolicy | undefined;
  /** `undefined` for the plugin's `retry.retryOnTimeout`, else false. */
  retryOnTimeout: boolean | undefined;
  /** Start no earlier than this (epoch ms); `undefined` (or a past time) to start as soon as a slot is free. */
  runAt: number | undefined;
  /** Start no earlier than this long after the submit (when `runAt` is not given). */
  delayMs: number | undefined;
  /** The job it re-runs. */
  retryOf: string | undefined;
  /** The schedule that submitted it. */
  scheduleKey: string | undefined;
  /** The submit's trace context, already checked (set by the engine when the tracker is traced). */
  traceContext?: JobTraceContext | undefined;
}

/** A new job's first record: `queued`, seq 1. Every field is present, so records keep one shape. */
export function queuedRecord(id: string, job: NewJob, defaults: { timeoutMs?: number | undefined; retry?: RetryPolicy | undefined } | undefined, now: number): JobRecord {
  const retry = defaults?.retry;
  const runAt = job.runAt ?? (job.delayMs === undefined ? undefined : now + job.delayMs);
  return {
    id,
    plugin: job.plugin,
    input: job.input,
    tenantId: job.tenantId,
    workspaceId: job.workspaceId,
    metadata: job.metadata,
    priority: job.priority,
    createdAt: now,
    timeoutMs: job.timeoutMs ?? defaults?.timeoutMs,
    idempotencyKey: job.idempotencyKey,
    traceContext: job.traceContext,
    maxAttempts: job.attempts ?? retry?.attempts ?? 1,
    attempt: 1,
    backoff: job.backoff ?? retry?.backoff,
    retryOnTimeout: job.retryOnTimeout ?? retry?.retryOnTimeout ?? false,
    runAt: runAt !== undefined && runAt > now ? runAt : undefined,
    lastError: undefined,
    retryOf: job.retryOf,
    scheduleKey: job.scheduleKey,
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

/** Throws unless the transition table allows `from → to` (a bug in the caller, never the user's input). */
function check(record: JobRecord, to: JobRecord['status']): void {
  if (to !== record.status && !canTransition(record.status, to)) {
    throw new JobwireError('INVALID_REQUEST', `Illegal job transition ${record.status} → ${to} (job ${record.id})`);
  }
}

/** A worker takes the job: `running`, stamped with its start. */
export function startedRecord(record: JobRecord, now: number): JobRecord {
  check(record, 'running');
  return { ...record, status: 'running', startedAt: now, message: undefined, runAt: undefined, seq: record.seq + 1, event: 'started' };
}

/** The job goes back to `queued` (its worker stopped), saying why. */
export function requeuedRecord(record: JobRecord, message: string): JobRecord {
  check(record, 'queued');
  return { ...record, status: 'queued', progress: 0, message, startedAt: undefined, seq: record.seq + 1, event: 'queued' };
}

/**
 * A try failed and the job will be tried again: back to `queued`, waiting until `runAt`, with the
 * next try's number and the error that ended this one.
 */
export function retryingRecord(record: JobRecord, runAt: number, lastError: JobErrorInfo): JobRecord {
  check(record, 'queued');
  return { ...record, status: 'queued', progress: 0, message: undefined, startedAt: undefined, attempt: record.attempt + 1, runAt, lastError, seq: record.seq + 1, event: 'retrying' };
}

/** A progress report; `message` undefined keeps the last one. */
export function progressedRecord(record: JobRecord, progress: number, message: string | undefined): JobRecord {
  return { ...record, progress, message: message === undefined ? record.message : message, seq: record.seq + 1, event: 'progress' };
}

/** The job ends as `status`, stamped with its end and its expiry (none when `ttlMs` is Infinity). */
export function endedRecord(record: JobRecord, status: TerminalStatus, at: number, ttlMs: number, end: { error?: JobErrorInfo; result?: unknown }): JobRecord {
  check(record, status);
  const expiresAt = Number.isFinite(ttlMs) ? at + ttlMs : undefined;
  return status === 'completed'
    ? { ...record, status, progress: 100, result: end.result, error: end.error, runAt: undefined, finishedAt: at, expiresAt, seq: record.seq + 1, event: status }
    : { ...record, status, error: end.error, runAt: undefined, finishedAt: at, expiresAt, seq: record.seq + 1, event: status };
}

/**
 * True when `current` is the record a write would have produced: a write whose answer was lost
 * (the connection dropped after it landed) is found done, not refused.
 */
export function sameChange(current: JobRecord, next: JobRecord): boolean {
  return current.seq === next.seq && current.event === next.event && current.status === next.status && current.startedAt === next.startedAt;
}

/**
 * The reason a run is aborted with (a cancel, a shutdown): a `JobwireError` without a stack trace.
 * Such a reason is a value the plugin reads, not a report of a bug; its stack would only say where
 * `cancel()` was called, and capturing it is most of what a cancel costs.
 */
export function abortReason(code: JobwireErrorCode, message: string): JobwireError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new JobwireError(code, message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}
