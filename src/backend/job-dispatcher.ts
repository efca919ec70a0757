import type { JobErrorInfo } from '../errors.js';
import type { JobMetadata } from '../job.js';
import type { JobRecord } from './job-record.js';

/** A job the dispatcher hands the engine to run. */
export interface DispatchedJob {
  readonly id: string;
  readonly plugin: string;
  /**
   * 1 for a job's first delivery; more when it is handed out again because the process that had
   * it stopped (crashed, killed, lost its lock). The engine then requeues it before running it.
   */
  readonly delivery: number;
  /**
   * The record as it was enqueued, when the dispatcher carries it (it saves the engine a read).
   * It may be out of date: the engine's claim is a compare-and-set that re-reads on conflict.
   */
  readonly record: JobRecord | undefined;
  /**
   * Called after each progress report of the run is recorded (the latest one, when reports come
   * faster than the store takes them): a queue that shows its jobs' progress (BullMQ) follows it.
   * Must not throw.
   */
  readonly onProgress?: (progress: number, message: string | undefined) => void;
  /**
   * True when the queue's user asked for the job to run now (BullMQ's **Promote**): a job waiting
   * for its `runAt` (a delayed job, a retry waiting for its backoff) starts at once.
   */
  readonly promoted?: boolean;
}

/**
 * A job that entered a shared queue without a jobwire record (added there by another program, say
 * with BullMQ's `queue.add(name, data)`), for {@link DispatchHandlers.adopt}.
 */
export interface ForeignJob {
  /** The plugin to run it: the name it was added under. */
  readonly plugin: string;
  /** Its input, checked with the plugin's input schema. */
  readonly input: unknown;
  /** Names the queue entry: adopting it again (handed out twice) finds the same job. */
  readonly key: string;
  /** Kept as the job's `metadata` (where it came from). */
  readonly metadata: JobMetadata;
}

/**
 * How a hand-out ended, as {@link DispatchHandlers.run} resolves:
 * - `done`: the job ran (whatever its end), or was found not runnable (cancelled, removed, running
 *   elsewhere). The dispatcher forgets it.
 * - `declined`: this process could not take the job at all (it is closing and its store did not
 *   answer the claim). A shared queue puts the job back for another worker, as it does with one
 *   it took but did not hand out.
 * - `later`: the job is `queued` again and must be handed out again no earlier than `runAt`
 *   (epoch ms): a try failed and its retry waits for its backoff, or a delayed job was handed out
 *   before its time. The wait must survive this process (a shared queue keeps the job delayed in
 *   the database, not in a timer here).
 */
export type RunOutcome =
  | {
      readonly kind: 'done';
      /** False when the job was not run (found ended, removed, or running elsewhere). */
      readonly ran?: boolean;
      /**
       * The job as it ended, once its end is recorded (a dispatcher that records results — BullMQ's
       * `returnvalue` and `failedReason` — reads it): the record this process last knew, or read
       * again from the store; `undefined` when the job is gone. Never rejects.
       */
      readonly ended?: () => Promise<JobRecord | undefined>;
    }
  | { readonly kind: 'declined' }
  | {
      readonly kind: 'later';
      readonly runAt: number;
      /** Set when a try failed and the job waits for its retry: that try's error. */
      readonly error?: JobErrorInfo;
    };

/** What the engine gives {@link JobDispatcher.start}. */
export interface DispatchHandlers {
  /**
   * Run a job. Resolves once the job no longer needs its slot (its plugin has settled, or the job
   * was not runnable), saying what the dispatcher does with it next (see {@link RunOutcome});
   * never rejects. Until then the job counts against the concurrency.
   */
  run(job: DispatchedJob): Promise<RunOutcome>;
  /**
   * The dispatcher gave up on a job it will never hand out again (say, after it was handed out
   * and lost too many times): the engine fails it with `reason`.
   */
  lost(jobId: string, reason: string): void;
  /**
   * A waiting job left the queue without the engine (removed, cleaned or obliterated by a queue
   * tool): the engine cancels it with `reason` if it is still `queued` — nothing would run it.
   */
  vanished(jobId: string, reason: string): void;
  /**
   * Make a jobwire job of a queue entry that came without one: checks the plugin and the input and
   * stores the job as `queued` (not queued again: the entry is the job's). Resolves with its record
   * — the one made before, for an entry adopted already.
   * @throws JobwireError `PLUGIN_NOT_FOUND`, `PLUGIN_DISABLED` or `INVALID_INPUT`.
   */
  adopt(job: ForeignJob): Promise<JobRecord>;
}

/**
 * Decides when jobs run: hands the engine the next job as slots come free, by priority (higher
 * first), then in submit order. In memory it is a p-queue; distributed, a queue in the database
 * that every worker process takes from.
 *
 * What a dispatcher guarantees (the conformance suite checks each):
 * - at most `concurrency` (the `BackendHost` setting) jobs of this process in `run` at once;
 * - at most a plugin's own `concurrency` (its `PluginMeta.concurrency`) of that plugin's jobs in
 *   `run` at once — and a job waiting for its plugin's cap holds none of the `concurrency` slots
 *   (other plugins' jobs start while it waits);
 * - a job handed out once, and again only after the process that had it stopped, or after a
 *   `later` outcome (then no earlier than its `runAt`);
 * - a job whose record has a `runAt` in the future is not handed out before that time, by the
 *   engine's clock (`BackendHost.now`); a job handed out early anyway is answered `later`.
 */
export interface JobDispatcher {
  /**
   * Start handing jobs to `handlers.run` (called once, by the engine, in processes that run jobs).
   * Resolves once it takes jobs.
   */
  start(handlers: DispatchHandlers): Promise<void>;
  /**
   * Queue a job the store has just created, to be handed out no earlier than `record.runAt` when it
   * is set (a delayed job). Called after `JobStore.create`, or — when `ordered` — right after it,
   * without waiting.
   */
  enqueue(record: JobRecord): Promise<void>;
  /**
   * Drop a job that will never run (cancelled or removed while it waited — a delayed job or a
   * retry waiting for its backoff included —, a create that did not create it, or one that landed
   * after its submit had failed, whose queue entry a store may have added with the record). Best effort: a job handed out anyway is found not runnable by the engine's claim.
   */
  discard(record: JobRecord): Promise<void>;
  /**
   * True when the dispatcher and the store share one ordered connection, so that a job enqueued
   * right after its create can never be handed out before the create is written: the engine then
   * sends both at once and discards the job when the create refused it (one round trip, not two).
   */
  readonly ordered?: boolean;
  /**
   * Jobs this process would start right now (free slots). A submit one of them takes does not
   * count against `maxQueued`. Omit when that cannot be known (a distributed queue).
   */
  idleSlots?(): number;
  /**
   * Stop handing out jobs: once it resolves, `run` is called no more. A job already taken from a
   * shared queue but not yet handed out (waiting for a slot) goes back to that queue. Resolves with
   * the ids of jobs still waiting that no other process will ever run (an in-memory queue's, its
   * delayed jobs and waiting retries included): the engine cancels them (code `CLOSED`). A shared queue keeps its jobs for the other workers and
   * resolves with none.
   */
  stop(): Promise<string[]>;
}
