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
export type RunOutcome = { readonly kind: 'done' } | { readonly kind: 'declined' } | { readonly kind: 'later'; readonly runAt: number };

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
   * retry waiting for its backoff included —, or a create that did not create it). Best effort: a job handed out anyway is found not runnable by the engine's claim.
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
