import type { BackoffPolicy } from '../retry/retry-policy.js';
import type { JobErrorInfo } from '../errors.js';
import type { JobStore } from './job-store.js';
import type { JobMetadata, JobStatus, JobStatusEventType } from '../job.js';

/**
 * The trace context a job was submitted in, as a text-map carrier (what OpenTelemetry's
 * `propagation.inject` writes: W3C `traceparent`, `tracestate`, `baggage`, or your propagator's
 * keys), so that the process that runs the job can link its span to the submit's. Plain JSON:
 * string keys and values, bounded (see `traceContext` on {@link JobRecord}).
 */
export type JobTraceContext = Readonly<Record<string, string>>;

/**
 * A job as the engine hands it to a store, and as a store hands it back: what it was submitted
 * with, where it is in its life, and the position of its event log.
 *
 * Records are values: the engine never changes one, it builds the next one and commits it
 * ({@link JobStore.commit}). A store keeps the last committed record of each job and returns it
 * as it was given (a store that serialises it must give back an equal value: JSON of the record
 * round-trips, `undefined` fields may come back absent). Times are epoch milliseconds.
 */
export interface JobRecord {
  /** Unguessable, URL-safe id (see `isValidJobId`). */
  readonly id: string;
  /** Name of the plugin that runs it. */
  readonly plugin: string;
  /** The input as the plugin's schema parsed it (JSON). */
  readonly input: unknown;
  readonly tenantId: string | undefined;
  readonly workspaceId: string | undefined;
  /** JSON-safe data the submitter attached. */
  readonly metadata: JobMetadata;
  /** Higher runs first. */
  readonly priority: number;
  /** When it was submitted. */
  readonly createdAt: number;
  /** Fail it with `TIMEOUT` after this long running, when set. */
  readonly timeoutMs: number | undefined;
  /** Tries the job gets in all (1 = no retry). */
  readonly maxAttempts: number;
  /** The try this is, from 1: the one running, the one waiting to run (a retry), or the last one. */
  readonly attempt: number;
  /** The wait before each retry; `undefined` for the default (`DEFAULT_BACKOFF`). */
  readonly backoff: BackoffPolicy | undefined;
  /** Whether a try that timed out is retried. */
  readonly retryOnTimeout: boolean;
  /**
   * While `queued`: the job must not start before this time (a delayed job, or a retry waiting for
   * its backoff). A dispatcher hands the job out no earlier. `undefined` once it started.
   */
  readonly runAt: number | undefined;
  /** The error of the previous try, once a try failed and the job was retried. */
  readonly lastError: JobErrorInfo | undefined;
  /** The job this one re-runs (`tracker.retry`). */
  readonly retryOf: string | undefined;
  /** The schedule whose tick submitted this job. */
  readonly scheduleKey: string | undefined;
  /** The submitter's idempotency key (scoped per tenant: see `idempotencyScope`). */
  readonly idempotencyKey: string | undefined;
  /**
   * The trace context of the submit (set only while `jobwire/otel` traces the submitting tracker),
   * read by the process that runs the job. Never in a snapshot or an event. At most 8 entries and
   * 4096 characters of keys and values, printable ASCII; the engine drops what is beyond that or
   * malformed, when the job is submitted and again when it is run. Absent in records stored
   * without it: a store that keeps the record's JSON keeps it with no change.
   */
  readonly traceContext?: JobTraceContext | undefined;
  readonly status: JobStatus;
  /** 0..100. */
  readonly progress: number;
  /** The last progress message. */
  readonly message: string | undefined;
  /** The plugin's result, once `completed` (JSON). */
  readonly result: unknown;
  /** Why it `failed` or was `cancelled`. */
  readonly error: JobErrorInfo | undefined;
  readonly startedAt: number | undefined;
  readonly finishedAt: number | undefined;
  /** When a finished job is removed; `undefined` while it lives, or when finished jobs are kept forever. */
  readonly expiresAt: number | undefined;
  /**
   * Seq of the job's last event: the record's version. The first record has seq 1. Output chunks
   * take seqs too ({@link JobStore.append}): a store then returns the record with the seq (and
   * `event: 'output'`) of the last chunk appended, whatever it stored before.
   */
  readonly seq: number;
  /** Type of the job's last event (the one numbered `seq`). */
  readonly event: JobStatusEventType | 'output';
}
