import type { JobRecord, JobTraceContext } from '../backend/job-record.js';
import type { NewJob } from '../engine/records.js';
import type { JobErrorInfo } from '../errors.js';
import type { JobSnapshot, TerminalStatus } from '../job.js';
import type { JobTracker } from './job-tracker.js';

/**
 * In-package hooks through which `jobwire/otel` traces a tracker's jobs across processes: a span
 * per submit, made in the submitter's context, whose trace context is kept with the job; a span
 * per try in the process that runs it. The core calls them and never loads `@opentelemetry/api`.
 * Not exported from the package: no new public API.
 */

/** How one try of a job ended in this process, as its run knows it. */
export interface TryEnd {
  /** `retrying`: it failed and will be tried again. `undefined`: its end could not be recorded (the store did not answer while closing). */
  readonly status: TerminalStatus | 'retrying' | undefined;
  /** The error that ended it (not for `completed`). */
  readonly error: JobErrorInfo | undefined;
  /** When it ended, epoch ms (the tracker's clock). */
  readonly at: number;
}

/** A submit being traced. */
export interface SubmitTrace {
  /** What to keep with the job (the engine checks its bounds first). */
  readonly traceContext: JobTraceContext | undefined;
  /** The submit settled: with the job (new, or the existing job of its idempotency key), or with the error it rejected with. */
  settled(job: JobSnapshot | undefined, error: unknown): void;
}

/** A try being traced, in the process that runs it. */
export interface RunTrace {
  /** Runs the plugin (`execute`) inside the try's trace context; settles as `execute` does. */
  wrap<T>(execute: () => Promise<T>): Promise<T>;
  /** The try is over: its plugin settled and its end is recorded (or found recorded elsewhere). Called once. */
  end(end: TryEnd): void;
}

/** What a tracer registers on a tracker. */
export interface TraceHooks {
  /** Called synchronously when a job is submitted (also by `retry` and by schedule ticks), in the caller's context. */
  submit(job: NewJob): SubmitTrace;
  /** Called when a try starts in this process; `traceContext` is the record's, checked. */
  run(job: JobRecord, traceContext: JobTraceContext | undefined): RunTrace;
}

/** Per tracker (held weakly): its tracer's hooks. */
const registry = new WeakMap<JobTracker, TraceHooks>();

/** The hooks traced on `tracker`, if any. */
export function traceHooksOf(tracker: JobTracker): TraceHooks | undefined {
  return registry.get(tracker);
}

/** Trace `tracker` with `hooks` (one tracer per tracker), or stop tracing it (`undefined`). */
export function setTraceHooks(tracker: JobTracker, hooks: TraceHooks | undefined): void {
  if (hooks) registry.set(tracker, hooks);
  else registry.delete(tracker);
}
