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
}

/** What the engine gives {@link JobDispatcher.start}. */
export interface DispatchHandlers {
  /**
   * Run a job. Resolves once the job no longer needs its slot (its plugin has settled, or the job
   * was not runnable); never rejects. Until then the job counts against the concurrency.
   *
   * Resolves `false` when this process could not take the job at all (it is closing and its store
   * did not answer the claim): a shared queue should put the job back for another worker, as it
   * does with one it took but did not hand out. `true` otherwise.
   */
  run(job: DispatchedJob): Promise<boolean>;
  /**
   * The dispatcher gave up on a job it will never hand out again (say, after it was handed out
   * and lost too many times): the engine fails it with `reason`.
   */
  lost(jobId: string, reason: string): void;
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
 * - a job handed out once, and again only after the process that had it stopped.
 */
export interface JobDispatcher {
  /**
   * Start handing jobs to `handlers.run` (called once, by the engine, in processes that run jobs).
   * Resolves once it takes jobs.
   */
  start(handlers: DispatchHandlers): Promise<void>;
  /** Queue a job the store has just created. Called after `JobStore.create`, or — when `ordered` — right after it, without waiting. */
  enqueue(record: JobRecord): Promise<void>;
  /**
   * Drop a job that will never run (cancelled or removed while it waited, or a create that did
   * not create it). Best effort: a job handed out anyway is found not runnable by the engine's claim.
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
   * the ids of jobs still waiting that no other process will ever run (an in-memory queue's): the
   * engine cancels them (code `CLOSED`). A shared queue keeps its jobs for the other workers and
   * resolves with none.
   */
  stop(): Promise<string[]>;
}
