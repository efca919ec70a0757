import type { JobErrorInfo } from './errors.js';

/** Where a job is in its life. `completed`, `failed` and `cancelled` are terminal. */
export type JobStatus = 'queued' | 'running' | 'completed' | 'failed' | 'cancelled';

/** A status that never changes again. */
export type TerminalStatus = 'completed' | 'failed' | 'cancelled';

/** Every status, in life order. */
export const JOB_STATUSES: readonly JobStatus[] = Object.freeze(['queued', 'running', 'completed', 'failed', 'cancelled']);

/** The kinds of event that carry the job's snapshot: a change of status, or progress. */
export type JobStatusEventType = 'queued' | 'started' | 'progress' | 'retrying' | 'completed' | 'failed' | 'cancelled';

/**
 * The kinds of event a reader gets: the status events, `output` (a chunk a plugin wrote with
 * `ctx.write`) and `gap` (output a reader cannot have: dropped past the job's `outputLimitBytes`).
 */
export type JobEventType = JobStatusEventType | 'output' | 'gap';

/** True for `completed`, `failed` and `cancelled`. */
export function isTerminalStatus(status: JobStatus): status is TerminalStatus {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** True for the event types that end a job's log. */
export function isTerminalEventType(type: JobEventType): type is TerminalStatus {
  return type === 'completed' || type === 'failed' || type === 'cancelled';
}

/** True for an event that carries the job's snapshot (`job`): any but `output` and `gap`. */
export function isStatusEvent(event: JobEvent): event is JobStatusEvent {
  return event.type !== 'output' && event.type !== 'gap';
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
 * A status or progress event of a job's log: `job` is the snapshot as of this event. `seq` counts
 * from 1 per job, is shared with the job's output events, and never repeats; it is the SSE `id`.
 */
export interface JobStatusEvent {
  seq: number;
  type: JobStatusEventType;
  jobId: string;
  /** ISO 8601 time of the event. */
  at: string;
  job: JobSnapshot;
}

/**
 * A chunk of partial output the plugin wrote (`ctx.write`), with its own `seq` in the job's log.
 * It carries no snapshot. String chunks written in one tick reach a reader as one event (its `seq`
 * is the last one merged; the text is the same), and so do those of later ticks for a reader more
 * than 256 unread events behind. JSON chunks are never merged.
 */
export interface JobOutputEvent {
  seq: number;
  type: 'output';
  jobId: string;
  /** ISO 8601 time the chunk was written. */
  at: string;
  /** What the plugin wrote: a string, or any JSON value. */
  chunk: unknown;
}

/**
 * Output this reader cannot have: the chunks numbered `fromSeq` … `toSeq` (output seqs among them;
 * status events in that range are delivered as usual) were dropped because the job's retained
 * output went past `outputLimitBytes`, or because this reader fell that far behind. `seq` is
 * `toSeq`, so resuming after it skips what is gone.
 */
export interface JobGapEvent {
  seq: number;
  type: 'gap';
  jobId: string;
  /** ISO 8601 time the output was dropped. */
  at: string;
  fromSeq: number;
  toSeq: number;
}

/**
 * One entry of a job's event log, as `tracker.events()`, SSE and listeners deliver it: a status
 * event (with the job's snapshot), an output chunk, or a gap. Narrow on `type` (or
 * {@link isStatusEvent}) before reading `job`.
 */
export type JobEvent = JobStatusEvent | JobOutputEvent | JobGapEvent;
