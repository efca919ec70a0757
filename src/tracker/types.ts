import type { BackoffPolicy } from '../retry/retry-policy.js';
import type { PluginStats } from './duration-stats.js';
import type { JobwireError } from '../errors.js';
import type { JobMetadata, JobOutputEvent, JobSnapshot, JobStatus, JobStatusEvent } from '../job.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { ResultStorage } from '../storage/types.js';
import type { JobBackend } from '../backend/job-backend.js';
import type { JobLimits } from '../engine/json-limits.js';

/** Options for {@link JobTracker}. */
export interface JobTrackerOptions {
  /** Where plugins come from. */
  plugins: PluginManager;
  /** Jobs running at once. @default 5 */
  concurrency?: number;
  /** Waiting jobs allowed; a submit beyond gets `QUEUE_FULL`. @default Infinity */
  maxQueued?: number;
  /** Finished jobs are removed this long after finishing. @default 3_600_000 (1 h) */
  ttlMs?: number;
  /** How often expired jobs are swept. @default 300_000 (5 min) */
  sweepIntervalMs?: number;
  /** How far back the per-plugin durations of `stats()` look (a sliding window). @default 300_000 (5 min) */
  statsWindowMs?: number;
  /** Where completed results are saved, once, before `completed` is announced. */
  storage?: ResultStorage;
  /** Where jobs are kept and run. @default `new MemoryBackend()` (this process's memory, p-queue) */
  backend?: JobBackend;
  /**
   * How long a request waits for a job store that does not answer (Redis or PostgreSQL down or
   * paused) before it fails with `UNAVAILABLE` (HTTP 503). Not used by the in-memory store.
   * @default 5_000
   */
  storeTimeoutMs?: number;
  /**
   * How long the first save of a result may take before it counts as failed (the job then
   * completes, and the save is retried in the background). A storage that hangs never keeps a job
   * `running` longer, and never holds a concurrency slot. @default 10_000
   */
  saveTimeoutMs?: number;
  /** Bounds on what a job may carry: input, metadata, result, messages. @default see {@link JobLimits} */
  limits?: Partial<JobLimits>;
  /**
   * Output (`ctx.write`) retained per job, in bytes of its JSON: past it, the oldest output is
   * dropped and readers that ask for it get a `gap` event. Also the most unread output an
   * `events()` reader (an SSE client) holds in memory before it gets a `gap` instead. 1 MiB holds
   * a two-hour transcript or a long LLM answer many times over, while a runaway plugin costs
   * Redis or PostgreSQL at most that much per job. @default 1_048_576 (1 MiB)
   */
  outputLimitBytes?: number;
  /** Clock in milliseconds, for tests. @default Date.now */
  now?: () => number;
  /** pino-compatible logger for what jobwire cannot throw. @default silent */
  logger?: Logger;
}

/** A job's retained output, from {@link JobTracker.output}. */
export interface JobOutput {
  /** The chunks the plugin wrote (every try's, in order) that are still retained, oldest first. */
  chunks: unknown[];
  /** True when older output was dropped past `outputLimitBytes`: `chunks` is then its newest part. */
  gap: boolean;
  /** The seq of the last output chunk retained (0 when there is none). */
  lastSeq: number;
}

/** Options for {@link JobTracker.submit}. */
export interface SubmitOptions {
  tenantId?: string;
  workspaceId?: string;
  /** Higher runs first. @default 0 */
  priority?: number;
  /** Fail the job with `TIMEOUT` after this long running. @default the plugin's `timeoutMs`, else none */
  timeoutMs?: number;
  /** JSON-safe data kept with the job. @default {} */
  metadata?: JobMetadata;
  /** Same key (per tenant) while the job lives → the same job, not a new one. */
  idempotencyKey?: string;
  /**
   * Tries in all, from 1: a try that fails (`PLUGIN_FAILED`; `TIMEOUT` with `retryOnTimeout`) is
   * tried again after `backoff` while tries are left. @default the plugin's `retry.attempts`, else 1
   */
  attempts?: number;
  /** The wait before each retry. @default the plugin's `retry.backoff`, else `{ type: 'exponential', delayMs: 1000 }` */
  backoff?: BackoffPolicy;
  /** Retry a try that timed out too. @default the plugin's `retry.retryOnTimeout`, else false */
  retryOnTimeout?: boolean;
  /** Start no sooner than this many milliseconds from now (the job waits `queued`, with `runAt`). Not with `runAt`. */
  delayMs?: number;
  /** Start no sooner than this time: a Date, an ISO 8601 string or epoch milliseconds. Not with `delayMs`. */
  runAt?: Date | string | number;
}

/** Query for {@link JobTracker.list}. */
export interface ListQuery {
  tenantId?: string;
  workspaceId?: string;
  /** One status or several. */
  status?: JobStatus | readonly JobStatus[];
  plugin?: string;
  /** @default 50 (max 1000) */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of jobs, newest first. */
export interface JobPage {
  jobs: JobSnapshot[];
  /** Present when there may be more. */
  nextCursor?: string;
}

/** Options for {@link JobTracker.events}. */
export interface EventsOptions {
  /** Replay only events with a greater seq (an SSE `Last-Event-ID`). @default 0 */
  afterSeq?: number;
  /** Aborting ends the iterator (`done`, no rejection). */
  signal?: AbortSignal | undefined;
}

/** Options for {@link JobTracker.wait}. */
export interface WaitOptions {
  /** Aborting rejects with `CANCELLED` (the job itself goes on). */
  signal?: AbortSignal | undefined;
  /** Reject with `TIMEOUT` after this long (the job itself goes on). */
  timeoutMs?: number | undefined;
}

/** Options for {@link JobTracker.close}. */
export interface CloseOptions {
  /** How long running jobs get to finish before they are cancelled. @default 30_000 */
  timeoutMs?: number;
}

/** Job counts by status, now (what a backend reports). */
export interface JobCounts {
  queued: number;
  running: number;
  completed: number;
  failed: number;
  cancelled: number;
  /** All jobs held (the sum of the above). */
  total: number;
  /** Of the `queued` ones, those waiting for their `runAt` (delayed jobs, retries waiting for their backoff). */
  delayed: number;
}

/** {@link JobTracker.stats}: counts now, and per-plugin durations over the last `windowMs`. */
export interface JobStats extends JobCounts {
  /** How far back `plugins` looks. */
  windowMs: number;
  /** Per plugin: jobs that ended in the window by status, queue-wait and run-time percentiles. */
  plugins: Record<string, PluginStats>;
}

/** Payload of `job:removed`. */
export interface JobRemovedEvent {
  jobId: string;
  /** The job as it was when removed. */
  job: JobSnapshot;
}

/** Payload of `job:storage-failed`: a completed job whose result could not be saved (yet). */
export interface StorageFailedEvent {
  jobId: string;
  /** Code `STORAGE_FAILED`; `cause` is the storage's own error. */
  error: JobwireError;
  /** 1 for the first try. */
  attempt: number;
  /** Whether another try is scheduled. */
  willRetry: boolean;
}

/** The tracker's typed events and their listeners. */
export interface JobTrackerEvents {
  'job:queued': (event: JobStatusEvent) => void;
  'job:started': (event: JobStatusEvent) => void;
  'job:progress': (event: JobStatusEvent) => void;
  'job:retrying': (event: JobStatusEvent) => void;
  'job:completed': (event: JobStatusEvent) => void;
  'job:failed': (event: JobStatusEvent) => void;
  'job:cancelled': (event: JobStatusEvent) => void;
  /** A chunk a plugin wrote, in any process (each chunk, in order; no snapshot). */
  'job:output': (event: JobOutputEvent) => void;
  'job:removed': (event: JobRemovedEvent) => void;
  'job:storage-failed': (event: StorageFailedEvent) => void;
}
