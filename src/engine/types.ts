import type { BackendSettings } from '../backend/job-backend.js';
import type { JobEvent, JobEventType, JobSnapshot, TerminalStatus } from '../job.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { ResultStorage } from '../storage/types.js';
import type { StorageFailedEvent } from '../tracker/types.js';
import type { TraceHooks } from '../tracker/trace-hooks.js';
import type { JobLimits } from './json-limits.js';

/** Every tracker setting the engine applies, already checked. */
export interface EngineSettings extends BackendSettings {
  readonly sweepIntervalMs: number;
  readonly statsWindowMs: number;
  /** A call to a store that may not answer (not in-process) fails with `UNAVAILABLE` after this long. */
  readonly storeTimeoutMs: number;
  /** A result save that has not settled after this long counts as failed (and is retried in the background). */
  readonly saveTimeoutMs: number;
  readonly limits: JobLimits;
  /** Output retained per job, and unread output held per reader (bytes of JSON). */
  readonly outputLimitBytes: number;
}

/** What the tracker gives its engine: its dependencies and where the engine reports. */
export interface EngineHost {
  readonly plugins: PluginManager;
  readonly storage: ResultStorage | undefined;
  readonly now: () => number;
  readonly logger: Logger;
  readonly settings: EngineSettings;
  /** True when someone listens for this event type, or for removals (build what they get only then). */
  listening(type: JobEventType | 'removed'): boolean;
  /** Deliver a job event to the tracker's listeners. */
  emit(event: JobEvent): void;
  /** Deliver `job:removed`; `job` is called only when someone listens. */
  emitRemoved(jobId: string, job: () => JobSnapshot): void;
  /** A job ended: feed the per-plugin durations of `stats()` (epoch ms; `startedAt` undefined when it never ran). */
  recordFinished(plugin: string, status: TerminalStatus, createdAt: number, startedAt: number | undefined, finishedAt: number): void;
  /** Deliver `job:storage-failed`. */
  emitStorageFailed(event: StorageFailedEvent): void;
  /** The hooks of the tracer tracing this tracker's jobs now (`jobwire/otel`), if any. */
  readonly tracing: TraceHooks | undefined;
}
