import type { JobErrorInfo } from './errors.js';

/** Where a job is in its life. `completed`, `failed` and `cancelled` are terminal. */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A status that never changes again. */
export type TerminalStatus = 'completed' | 'failed' | 'cancelled';

/** Every status, in life order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze(['queued', 'running', 'completed', 'failed', 'cancelled']);

/** The kinds of event in a job's log. */
export type JobEventType = 'queued' | 'started' | 'progress' | 'retrying' | 'completed' | 'failed' | 'cancelled';

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalStatus(status: JobStatus): status is TerminalStatus {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** True for the event types that end a job's log. */
export function isTerminalEventType(type: JobEventType): type is TerminalStatus {
  return type === 'completed' || type === 'failed' || type === 'cancelled';
}

/** JSON-safe free-form data a host attaches to a job. */
export type JobMetadata = Record<string, unknown>;

/**
 * A job as clients see it: plain JSON, safe to send over HTTP. Times are ISO 8601.
 * Treat it as read-only; it may share `input`, `result` and `metadata` with the tracker.
 */
export interface JobSnapshot {
  /** Unguessable, URL-safe id (≥ 96 random bits). */
  id: string;
  /** Name of the plugin that runs it. */
  plugin: string;
  status: JobStatus;
  /** 0..100; 100 once `completed`. */
  progress: number;
  /** Last progress message, if any. */
  message?: string;
  /** The input after validation by the plugin's schema. */
  input: unknown;
  /** The plugin's return value, once `completed`. */
  result?: unknown;
  /** Why it `failed` or was `cancelled`. */
  error?: JobErrorInfo;
  /** The try this is, from 1: the one running, the one waiting to run, or the last one. */
  attempt: number;
  /** Tries the job gets in all (`attempts` on submit, else the plugin's `retry.attempts`, else 1). */
  maxAttempts: number;
  /** While `queued`: when the job may start (a delayed job, or a retry waiting for its backoff). */
  runAt?: string;
  /** The error of the previous try, once a try failed and the job was retried. */
  lastError?: JobErrorInfo;
  /** The id of the job this one re-runs (`tracker.retry`). */
  retryOf?: string;
  /** The key of the schedule whose tick submitted this job (`tracker.schedule`). */
  scheduleKey?: string;
  tenantId?: string;
  workspaceId?: string;
  metadata: JobMetadata;
  /** Higher runs first. */
  priority: number;
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  /** When a finished job will be removed. */
  expiresAt?: string;
}

/**
 * One entry of a job's event log. `seq` counts from 1 per job and never repeats; it is the SSE `id`.
 * `job` is the snapshot as of this event.
 */
export interface JobEvent {
  seq: number;
  type: JobEventType;
  jobId: string;
  /** ISO 8601 time of the event. */
  at: string;
  job: JobSnapshot;
}
