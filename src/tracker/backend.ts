import type { JobwireErrorCode } from '../errors.js';
import type { JobEvent, JobEventType, JobMetadata, JobSnapshot, JobStatus, TerminalStatus } from '../job.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { ResultStorage } from '../storage/types.js';
import type { JobPage, JobCounts, StorageFailedEvent } from './types.js';

/** Tracker settings a backend applies, already checked. */
export interface BackendSettings {
  concurrency: number;
  maxQueued: number;
  ttlMs: number;
  sweepIntervalMs: number;
  statsWindowMs: number;
}

/** What a {@link JobTracker} hands its backend on start. */
export interface BackendHost {
  readonly plugins: PluginManager;
  readonly storage: ResultStorage | undefined;
  readonly now: () => number;
  readonly logger: Logger;
  readonly settings: BackendSettings;
  /** True when someone listens for this event type (build events only then). */
  listening(type: JobEventType): boolean;
  /** Deliver a job event to the tracker's listeners. */
  emit(event: JobEvent): void;
  /** Deliver `job:removed`; `job` is called only when someone listens. */
  emitRemoved(jobId: string, job: () => JobSnapshot): void;
  /** A job ended: feed the per-plugin durations of `stats()` (epoch ms; `startedAt` undefined when it never ran). */
  recordFinished(plugin: string, status: TerminalStatus, createdAt: number, startedAt: number | undefined, finishedAt: number): void;
  /** Deliver `job:storage-failed`. */
  emitStorageFailed(event: StorageFailedEvent): void;
}

/** A checked submit, as the tracker passes it on. */
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

/** Checked options of `events()`. */
export interface BackendEventsOptions {
  afterSeq: number;
  signal?: AbortSignal | undefined;
}

/** A checked list query. */
export interface BackendListQuery {
  tenantId: string | undefined;
  workspaceId: string | undefined;
  statuses: ReadonlySet<JobStatus> | undefined;
  plugin: string | undefined;
  limit: number;
  cursor: string | undefined;
}

/**
 * The engine under a {@link JobTracker}: it stores jobs, queues and runs them, and keeps their
 * event logs. The tracker checks every argument before it calls a backend. The in-memory
 * backend is the default; `jobwire/bullmq` has the distributed one. One conformance suite
 * checks every backend against the same behaviour.
 */
export interface JobBackend {
  /** Called once by the tracker's constructor. */
  start(host: BackendHost): void;
  /** Store and enqueue; resolve with the `queued` snapshot. */
  submit(job: NewJob): Promise<JobSnapshot>;
  get(id: string): Promise<JobSnapshot | undefined>;
  list(query: BackendListQuery): Promise<JobPage>;
  /** `code` is `CANCELLED`, or `CLOSED` during shutdown. */
  cancel(id: string, reason: string, code: Extract<JobwireErrorCode, 'CANCELLED' | 'CLOSED'>): Promise<JobSnapshot>;
  remove(id: string): Promise<boolean>;
  events(id: string, options: BackendEventsOptions): AsyncIterableIterator<JobEvent>;
  stats(): Promise<JobCounts>;
  /** New submits are already refused by the tracker; cancel queued jobs, give running ones `timeoutMs`. */
  close(timeoutMs: number): Promise<void>;
}
