import type { Job, JobsOptions, Queue, Worker } from 'bullmq';
import type { DispatchHandlers, JobDispatcher, RunOutcome } from '../backend/job-dispatcher.js';
import type { JobRecord } from '../backend/job-record.js';
import type { RecordPage } from '../backend/job-store.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import { settleWithin } from '../engine/settle-within.js';
import { isValidJobId } from '../valid-job-id.js';
import { isTickJob, isTickJobId } from './bullmq-scheduler.js';
import { jobDataOf, jobwireJobOf, type QueuedJobData } from './job-data.js';
import { copiedJob, namedEntryOf, endOf, foreignJobOf, notJobwireJob, RetryLater, RETRY_BACKOFF, retryDelayOf } from './job-end.js';
import { ProgressRelay } from './progress-relay.js';
import { QueueEventsReader, type QueueEvent } from './queue-events-reader.js';
import { QueueReconciler, VANISHED_REASON } from './queue-reconciler.js';
import { SlotGate } from './slot-gate.js';

export type { QueuedJobData } from './job-data.js';

/** BullMQ's reason for a job it gave up on after its workers kept losing it (its stalled check). */
const STALLED_TOO_OFTEN = 'stalled more than allowable limit';

/** How far before its time a job BullMQ hands out with no delay left must be to count as promoted by hand. */
const PROMOTE_TOLERANCE_MS = 1_000;

/** Where a waiting BullMQ job was when it was removed: a job jobwire still counts as `queued`. */
const WAITING_STATES: ReadonlySet<string> = new Set(['wait', 'waiting', 'prioritized', 'delayed', 'paused']);

/** How many of the jobs this process removed from BullMQ it remembers, so as not to act on their `removed` events. */
const REMOVED_HERE_KEPT = 1_000;

/** How often a worker process looks for plugins that gained a `concurrency` cap (and so a queue of their own). */
const PLUGIN_SCAN_MS = 1_000;

/** How long stopping waits for jobs being put back in their queue (a database outage would hold them). */
const HAND_BACK_WAIT_MS = 5_000;

/** How long closing waits for each kind of BullMQ client (workers, events readers, queues) to close. */
const CLOSE_WAIT_MS = 2_000;

/** How long a schedule's tick job waits when it reaches a worker whose scheduler does not tick (yet, or any more). */
const TICK_PUT_OFF_MS = 1_000;

/**
 * Handles a schedule's tick job (see bullmq-scheduler.ts). Resolves once the tick's job is
 * submitted; a rejection makes BullMQ try the tick again, as its job's attempts allow.
 */
export type TickJobHandler = (job: Job) => Promise<void>;

/** Everything the dispatcher needs from the backend that opened it. */
export interface BullMQDispatcherSetup {
  bullmq: typeof import('bullmq');
  queueName: string;
  /** Connection and prefix for queues and workers. */
  bullOptions: { connection: never; prefix: string };
  /** BullMQ's datastore factory (PostgreSQL), or undefined for Redis. */
  backendFactory: unknown;
  /** A fresh connection for a queue's events reader. */
  eventsConnection: () => unknown;
  plugins: PluginManager;
  logger: Logger;
  /** Jobs this process runs at once, over all its queues. */
  concurrency: number;
  ttlMs: number;
  stalled: { lockDurationMs: number; stalledIntervalMs: number; maxStalledCount: number };
  /** True when `enqueue` and the store share one ordered connection (Redis). */
  ordered: boolean;
  /** True when BullMQ keeps data and return values as jsonb (PostgreSQL), which holds no `\u0000`. */
  jsonb: boolean;
  /** Called once the workers take jobs. */
  onStarted(): void;
  /** A page of `queued` job records, every tenant's (the reconciler's read). */
  listQueued(cursor: string | undefined, limit: number): Promise<RecordPage>;
  /** How often a worker process checks queued jobs against BullMQ (see {@link QueueReconciler}). */
  reconcileIntervalMs: number;
  /** True for a record whose create added its BullMQ job too (BullMQ on PostgreSQL): `enqueue` has nothing left to do. */
  addedWithRecord?(record: JobRecord): boolean;
}

/**
 * BullMQ priorities run 1 (first) to 2^21; jobwire's run higher first. Every job gets one, the
 * default priority (0) included: BullMQ hands out its plain `waiting` jobs before any prioritized
 * one, so a job left without would run ahead of every higher priority (and of the schedules'
 * ticks). BullMQ therefore shows waiting jobwire jobs as `prioritized`.
 */
function bullPriority(priority: number): number {
  return Math.min(2_097_151, Math.max(1, Math.round(1_048_576 - priority)));
}

/**
 * Hands out jobs through BullMQ. Jobs of plugins without a cap share the deployment's queue
 * (`queueName`); each plugin with its own `concurrency` has a queue of its own (`<queueName>.<plugin>`)
 * whose workers take at most that many at once over every worker process (the cap is the queue's
 * BullMQ global concurrency) — so a capped plugin's waiting jobs stay in its queue and never hold a
 * worker slot another plugin's job could use. One slot gate per process
 * keeps the jobs running here at `concurrency`, whatever queues they come from.
 *
 * BullMQ's locks and stalled-job checks recover a job whose worker died: it is handed out again
 * (`delivery` > 1); after `maxStalledCount` such losses BullMQ gives up and the engine fails it.
 *
 * A job that must wait (a delayed job, or a retry waiting for its backoff) waits in BullMQ's
 * delayed set, in the database: any worker takes it once it is due. The main queue also carries
 * the schedules' tick jobs, which go to the scheduler ticking in this process (see
 * {@link routeTicks}), never to the engine.
 */
export class BullMQDispatcher implements JobDispatcher {
  readonly ordered: boolean;
  readonly #setup: BullMQDispatcherSetup;
  readonly #queues = new Map<string, Queue>();
  readonly #workers = new Map<string, Worker>();
  readonly #events = new Map<string, QueueEventsReader>();
  /** Queues whose worker is being started (their cap being set): a second start leaves them to the first. */
  readonly #starting = new Set<string>();
  readonly #gate: SlotGate;
  /** Jobs being put back in their queue because the dispatcher stopped: stop() waits for them. */
  readonly #handingBack = new Set<Promise<void>>();
  /**
   * Tick jobs handled here whose end BullMQ has not recorded yet, by job id: stopping waits for
   * them, so a tick handled here is not left active, to be handed out again once its lock lapses.
   */
  readonly #ticking = new Map<string, { settled: Promise<void>; settle: () => void }>();
  /**
   * BullMQ ids of jobs this process removed (a cancel, a remove): their `removed` event asks for
   * nothing (the engine did it). The oldest are forgotten past {@link REMOVED_HERE_KEPT}.
   */
  readonly #removedHere = new Set<string>();
  #handlers: DispatchHandlers | undefined;
  #ticks: TickJobHandler | undefined;
  #scan: NodeJS.Timeout | undefined;
  #reconciler: QueueReconciler | undefined;
  #stopped = false;

  constructor(setup: BullMQDispatcherSetup) {
    this.#setup = setup;
    this.ordered = setup.ordered;
    this.#gate = new SlotGate(setup.concurrency);
  }

  /** The BullMQ queue a plugin's jobs go to. */
  queueOf(plugin: string): string {
    const cap = this.#setup.plugins.getMeta(plugin)?.concurrency;
    return cap === undefined ? this.#setup.queueName : `${this.#setup.queueName}.${plugin}`;
  }

  /** Add the job to its BullMQ queue; a job with a `runAt` waits in BullMQ's delayed set until then. */
  async enqueue(record: JobRecord): Promise<void> {
    if (this.#setup.addedWithRecord?.(record)) return; // its create added it (BullMQ on PostgreSQL)
    const { queue, name, data, opts } = this.#entryOf(record);
    await this.#queue(queue).add(name, data, opts);
  }

  /**
   * The arguments of BullMQ's `add_job` on PostgreSQL for a job, as `Queue.add` sends them (BullMQ
   * builds the job's stored options itself: `Job#asJSON`), for the store to add the job in the
   * statement that creates its record (see PostgresJobStore). Undefined for an adopted job: its
   * BullMQ job is the one added by hand.
   */
  addJobArgs(record: JobRecord): unknown[] | undefined {
    if (namedEntryOf(record)) return undefined; // enqueue() adds it, should the metadata be a submitter's
    const { queue, name, data, opts } = this.#entryOf(record);
    const bullQueue = this.#queue(queue);
    const job = new this.#setup.bullmq.Job(bullQueue, name, data, opts, record.id).asJSON();
    const stored = job.opts as { priority?: number; delay?: number; attempts?: number };
    return [bullQueue.qualifiedName, record.id, job.name, job.data, JSON.stringify(stored), stored.priority ?? 0, stored.delay ?? 0, job.timestamp, stored.attempts ?? 1, null, null, null, null, null, false];
  }

  /** A job's BullMQ entry: its queue, name, data and options. */
  #entryOf(record: JobRecord): { queue: string; name: string; data: QueuedJobData; opts: JobsOptions & { jobId: string } } {
    const ageSeconds = Number.isFinite(this.#setup.ttlMs) ? Math.ceil(this.#setup.ttlMs / 1000) : undefined;
    const delay = record.runAt === undefined ? 0 : Math.max(0, record.runAt - Date.now());
    return {
      queue: this.queueOf(record.plugin),
      name: record.plugin,
      data: jobDataOf(record, this.#setup.jsonb),
      opts: {
        jobId: record.id,
        priority: bullPriority(record.priority),
        ...(delay > 0 ? { delay } : {}),
        // Retries are BullMQ's own (attemptsMade, failedReason, the delayed set); the wait before each is jobwire's backoff.
        ...(record.maxAttempts > 1 ? { attempts: record.maxAttempts, backoff: { type: RETRY_BACKOFF } } : {}),
        removeOnComplete: ageSeconds === undefined ? false : { age: ageSeconds },
        removeOnFail: ageSeconds === undefined ? false : { age: ageSeconds },
      },
    };
  }

  /** Remove the job from its BullMQ queue, whatever set it waits in (delayed included); one a worker holds stays. */
  async discard(record: JobRecord): Promise<void> {
    for (const entry of await this.#entriesOf(record)) {
      this.#removing(entry.id);
      const removed = await this.#queue(entry.queue).remove(entry.id).catch((error: unknown) => {
        this.#removedHere.delete(entry.id);
        throw error;
      });
      if (removed === 1) return;
      this.#removedHere.delete(entry.id);
    }
  }

  /** Remember a job this process is removing from BullMQ (see {@link #removedHere}). */
  #removing(id: string): void {
    this.#removedHere.delete(id);
    this.#removedHere.add(id);
    if (this.#removedHere.size > REMOVED_HERE_KEPT) this.#removedHere.delete(this.#removedHere.values().next().value as string);
  }

  /**
   * The queues a plugin's jobs may be in: the one its settings name now first, then the other — a
   * job stays where it was added when a rolling deploy gives the plugin a `concurrency` cap or takes
   * it away. Only the main queue for a plugin not registered here: no other queue name is opened.
   */
  #queuesOf(plugin: string): string[] {
    const main = this.#setup.queueName;
    if (this.#setup.plugins.getMeta(plugin) === undefined) return [main];
    const own = `${main}.${plugin}`;
    return this.queueOf(plugin) === main ? [main, own] : [own, main];
  }

  /**
   * Where the BullMQ job of a record may be, in the order to look. The entry an adopted job's
   * metadata names (anyone submitting may write that metadata) counts only when it is in one of the
   * plugin's queues and its data names this record — adoption writes that; else the job's own id.
   */
  async #entriesOf(record: JobRecord): Promise<{ queue: string; id: string }[]> {
    const queues = this.#queuesOf(record.plugin);
    const named = namedEntryOf(record);
    if (named && queues.includes(named.queue) && named.id !== record.id) {
      const job = await this.#queue(named.queue).getJob(named.id);
      if (job && jobwireJobOf(job.data, job.id)?.id === record.id) return [named];
    }
    return queues.map((queue) => ({ queue, id: record.id }));
  }

  async start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#work(this.#setup.queueName, this.#setup.concurrency);
    await this.#workCappedPlugins();
    // Plugins registered (or capped) later get their queue's worker within a second.
    this.#scan = setInterval(() => void this.#workCappedPlugins().catch((error: unknown) => this.#setup.logger.warn({ err: error }, `jobwire: could not start a plugin's queue worker: ${messageOf(error)}`)), PLUGIN_SCAN_MS);
    this.#scan.unref();
    this.#reconciler = new QueueReconciler({
      intervalMs: this.#setup.reconcileIntervalMs,
      listQueued: this.#setup.listQueued,
      exists: (record) => this.#exists(record),
      vanished: (id, reason) => this.#handlers?.vanished(id, reason),
      beforeRound: () => this.#reapplyCaps(),
      logger: this.#setup.logger,
    });
    this.#reconciler.start();
    this.#setup.onStarted();
  }

  /**
   * Whether the BullMQ job of a record is still in one of its plugin's queues, in any state. A job
   * found in a plugin's own queue after its cap was removed gets a worker here, so that it runs.
   */
  async #exists(record: JobRecord): Promise<boolean> {
    for (const entry of await this.#entriesOf(record)) {
      if ((await this.#queue(entry.queue).getJobState(entry.id)) === 'unknown') continue;
      // Left in the plugin's own queue by a cap since removed (a capped plugin's queue is started with its cap, elsewhere).
      if (entry.queue !== this.#setup.queueName && this.queueOf(record.plugin) === this.#setup.queueName) await this.#work(entry.queue, this.#setup.concurrency);
      return true;
    }
    return false;
  }

  /**
   * The deployment's main BullMQ queue (`queueName`): where uncapped plugins' jobs and the
   * schedules' tick jobs go.
   */
  mainQueue(): Queue {
    return this.#queue(this.#setup.queueName);
  }

  /**
   * Route the schedules' tick jobs that this process's worker fetches to `handler` (never to the
   * engine's `run`); `undefined` stops it: tick jobs fetched then wait a second in BullMQ's delayed
   * set for a process that ticks.
   */
  routeTicks(handler: TickJobHandler | undefined): void {
    this.#ticks = handler;
  }

  /** Take no more jobs; the queues keep their jobs for the other workers. */
  async stop(): Promise<string[]> {
    this.#stopped = true;
    if (this.#scan) clearInterval(this.#scan);
    await this.#reconciler?.stop();
    this.#gate.wakeAll(); // jobs fetched and waiting for a slot go back now, while the connections are open
    await Promise.all([...this.#workers.values()].map((worker) => worker.pause(true)));
    await Promise.all([this.#handedBack(), this.#ticksRecorded()]);
    return [];
  }

  /** Close every worker, events reader and queue this dispatcher opened. */
  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#scan) clearInterval(this.#scan);
    await this.#reconciler?.stop();
    this.#gate.wakeAll();
    await Promise.all([this.#handedBack(), this.#ticksRecorded()]); // jobs handed back since stop() (a claim a closing tracker could not make)
    // During an outage BullMQ's own close may wait for a connection that does not come back: after
    // a while the backend cuts the connections, which ends whatever is still waiting.
    await settleWithin([...this.#workers.values()].map((worker) => worker.close(true)), CLOSE_WAIT_MS);
    await settleWithin([...this.#events.values()].map((events) => events.close()), CLOSE_WAIT_MS);
    await settleWithin([...this.#queues.values()].map((queue) => queue.close()), CLOSE_WAIT_MS);
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      const { bullmq, bullOptions, backendFactory, logger } = this.#setup;
      queue = new bullmq.Queue(name, bullOptions, backendFactory as never);
      queue.on('error', (error) => logger.warn({ err: error }, `jobwire: BullMQ queue error: ${error.message}`));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  /**
   * Start the queue worker of every capped plugin not served yet. The plugin's cap is its queue's
   * BullMQ global concurrency, kept in the database: it holds across every worker process.
   */
  async #workCappedPlugins(): Promise<void> {
    for (const { queue, cap } of this.#cappedQueues()) await this.#work(queue, Math.min(cap, this.#setup.concurrency), cap);
  }

  /** Each capped plugin's own queue, with the plugin's cap. */
  #cappedQueues(): { queue: string; cap: number }[] {
    return this.#setup.plugins.list().flatMap(({ name, concurrency }) => (concurrency === undefined ? [] : [{ queue: this.queueOf(name), cap: concurrency }]));
  }

  /**
   * Set each capped plugin's cap on its queue again (idempotent): BullMQ's `obliterate` deletes the
   * queue's meta key, which holds it. Run in each reconciler round, so also after a `cleaned` event.
   */
  async #reapplyCaps(): Promise<void> {
    const served = this.#cappedQueues().filter(({ queue }) => this.#workers.has(queue));
    await Promise.all(served.map(({ queue, cap }) => this.#queue(queue).setGlobalConcurrency(cap)));
  }

  /**
   * Start a worker (and its events reader) on a queue, once. `globalCap`: the most jobs of this
   * queue running at once over every worker process, set on the queue before its worker takes any.
   */
  async #work(name: string, concurrency: number, globalCap?: number): Promise<void> {
    if (this.#workers.has(name) || this.#starting.has(name) || this.#stopped) return;
    if (globalCap !== undefined) {
      this.#starting.add(name);
      try {
        await this.#queue(name).setGlobalConcurrency(globalCap);
      } finally {
        this.#starting.delete(name);
      }
      if (this.#stopped) return;
    }
    const { bullmq, bullOptions, backendFactory, logger, stalled } = this.#setup;
    const worker = new bullmq.Worker(name, (job: Job, token?: string) => this.#process(job, token), {
      ...bullOptions,
      concurrency,
      lockDuration: stalled.lockDurationMs,
      stalledInterval: stalled.stalledIntervalMs,
      maxStalledCount: stalled.maxStalledCount,
      settings: { backoffStrategy: retryDelayOf },
    }, backendFactory as never);
    this.#workers.set(name, worker);
    worker.on('error', (error) => logger.warn({ err: error }, `jobwire: BullMQ worker error: ${error.message}`));
    worker.on('completed', (job) => this.#tickRecorded(job.id));
    worker.on('failed', (job) => this.#tickRecorded(job?.id));
    const events = new QueueEventsReader(
      new bullmq.QueueEvents(name, { connection: this.#setup.eventsConnection() as never, prefix: bullOptions.prefix, autorun: false }, backendFactory as never),
      (event) => this.#heard(event),
      logger,
    );
    this.#events.set(name, events);
    await Promise.all([worker.waitUntilReady(), events.start()]);
  }

  /**
   * An event of a queue this process works on, as BullMQ wrote it (read in batches, see
   * {@link QueueEventsReader}): the few that jobwire must act on, wherever they happened.
   */
  #heard(event: QueueEvent): void {
    const { jobId } = event;
    if (jobId === undefined) {
      if (event.event === 'cleaned') this.#reconciler?.soon();
      return;
    }
    switch (event.event) {
      // A job BullMQ gave up on after the workers holding it kept losing it (stalled more than
      // maxStalledCount) must be failed in jobwire too. Every other failure is one our processor
      // threw, for a job jobwire ended already; a tick's failure was logged where it failed.
      case 'failed': {
        const reason = event.failedReason ?? '';
        if (isTickJobId(jobId) || !reason.includes(STALLED_TOO_OFTEN)) return;
        this.#handlers?.lost(jobId, `BullMQ gave up on the job: the worker running it was lost ${this.#setup.stalled.maxStalledCount + 1} times (it stopped, or could not renew its lock) (${reason})`);
        return;
      }
      // A waiting job removed with BullMQ's tools: cancelled at once (clean and obliterate say
      // nothing per job: the reconciler finds those). A removal made here (a cancel) needs nothing.
      case 'removed':
        if (this.#removedHere.delete(jobId)) return;
        if (WAITING_STATES.has(event.prev ?? '') && isValidJobId(jobId)) this.#handlers?.vanished(jobId, VANISHED_REASON);
        return;
    }
  }

  /**
   * The hand-backs under way have settled — or, during an outage (a command waits for the database),
   * a while has passed: those jobs are left to BullMQ's stalled check, and shutting down goes on.
   */
  #handedBack(): Promise<void> {
    return settleWithin(this.#handingBack, HAND_BACK_WAIT_MS);
  }

  /** The ticks handled here have their end recorded by BullMQ — or, during an outage, a while has passed. */
  #ticksRecorded(): Promise<void> {
    return settleWithin([...this.#ticking.values()].map((tick) => tick.settled), HAND_BACK_WAIT_MS);
  }

  /** BullMQ recorded the end of a job this worker processed: if a tick, stopping need not wait for it. */
  #tickRecorded(id: string | undefined): void {
    if (id === undefined) return;
    this.#ticking.get(id)?.settle();
    this.#ticking.delete(id);
  }

  /**
   * Put a fetched job back in its queue, untouched, and end its processing without a result. If
   * the move fails, the job stays active until its lock lapses and BullMQ's stalled check requeues
   * it: never failed, never completed for nothing.
   */
  async #handBack(job: Job, token: string | undefined): Promise<never> {
    const moving = job.moveToWait(token).then(
      () => undefined,
      (error: unknown) => this.#setup.logger.warn({ jobId: job.id, err: error }, `jobwire: could not hand a job back to its queue; it is requeued once its lock lapses: ${messageOf(error)}`),
    );
    this.#handingBack.add(moving);
    await moving; // never rejects
    this.#handingBack.delete(moving);
    throw new this.#setup.bullmq.WaitingError();
  }

  /**
   * Move a job BullMQ handed out to its delayed set until `runAt`, and end its processing without a
   * result. If the move fails, the job stays active until its lock lapses and BullMQ's stalled
   * check requeues it (handed out again early, the engine answers `later` again).
   */
  async #delay(job: Job, token: string | undefined, runAt: number): Promise<never> {
    await job.moveToDelayed(runAt, token).catch((error: unknown) => {
      this.#setup.logger.warn({ jobId: job.id, err: error }, `jobwire: could not move a job to BullMQ's delayed set; it is requeued once its lock lapses: ${messageOf(error)}`);
    });
    throw new this.#setup.bullmq.DelayedError();
  }

  /** A schedule's tick job: to the scheduler ticking in this process; put off while none does. */
  async #tick(job: Job, token: string | undefined): Promise<void> {
    const ticks = this.#ticks;
    if (ticks && job.id !== undefined) {
      let settle!: () => void;
      const settled = new Promise<void>((resolve) => (settle = resolve));
      this.#ticking.set(job.id, { settled, settle });
      return ticks(job);
    }
    if (ticks) return ticks(job);
    if (this.#stopped) await this.#handBack(job, token);
    await this.#delay(job, token, Date.now() + TICK_PUT_OFF_MS);
  }

  async #process(job: Job, token: string | undefined): Promise<unknown> {
    if (isTickJob(job)) return this.#tick(job, token); // takes no slot: it only submits a job
    const handlers = this.#handlers;
    if (!handlers || job.id === undefined) return undefined;
    let carried = jobwireJobOf(job.data, job.id);
    // A copy of another job's entry (Bull Board's Duplicate): not run, not taken for the job it copies.
    if (carried && carried.id !== job.id && (carried.record === undefined || namedEntryOf(carried.record)?.id !== job.id)) throw copiedJob(this.#setup.bullmq, carried.id);
    if (!carried) {
      // Added by hand (`queue.add(plugin, input)`): a jobwire job if the plugin and input are valid, else failed here.
      let record: JobRecord;
      try {
        record = await handlers.adopt(foreignJobOf(job));
      } catch (error) {
        const refused = notJobwireJob(this.#setup.bullmq, error);
        if (refused) throw refused;
        this.#setup.logger.warn({ jobId: job.id, err: error }, `jobwire: could not adopt a job added to BullMQ by hand; trying again: ${messageOf(error)}`);
        return this.#delay(job, token, Date.now() + TICK_PUT_OFF_MS);
      }
      carried = { id: record.id, record };
      // From now on the entry names its jobwire job (handed out again, it runs the same one).
      await job.updateData(jobDataOf(record, this.#setup.jsonb)).catch((error: unknown) => this.#setup.logger.warn({ jobId: job.id, err: error }, `jobwire: could not record which jobwire job a BullMQ job became: ${messageOf(error)}`));
    }
    const granted = await this.#gate.acquire();
    if (this.#stopped) {
      // Stopped while it waited for a slot here: back to the queue for another worker (or the next
      // start). Handed to a closing engine, it would be claimed after close() swept its runs.
      if (granted) this.#gate.release();
      await this.#handBack(job, token);
    }
    const progress = new ProgressRelay(job, this.#setup.logger);
    let outcome: RunOutcome;
    try {
      const handOut = { id: carried.id, plugin: carried.record?.plugin ?? job.name, delivery: job.attemptsStarted, record: carried.record, onProgress: progress.report };
      outcome = await handlers.run(handOut);
      // Not due by jobwire's clock, yet BullMQ has no delay left for it: someone promoted it
      // (BullMQ's Promote), well before its time (a clock a little off is not a promote). It runs now.
      if (outcome.kind === 'later' && !outcome.error && job.delay === 0 && outcome.runAt - Date.now() > PROMOTE_TOLERANCE_MS) outcome = await handlers.run({ ...handOut, record: undefined, promoted: true });
    } finally {
      this.#gate.release();
    }
    if (outcome.kind === 'declined') await this.#handBack(job, token); // the closing engine could not claim it: another worker will
    if (outcome.kind === 'later') {
      // A try failed and waits for its retry: BullMQ's own retry (attemptsMade, failedReason, the
      // delayed set), when the job's BullMQ attempts allow it. Otherwise (a delayed job handed out
      // early, or a job added by hand) the wait is kept in the delayed set all the same: a worker
      // that dies meanwhile loses nothing, and any worker takes it when due.
      if (outcome.error && job.opts.backoff !== undefined && typeof job.opts.backoff === 'object' && job.opts.backoff.type === RETRY_BACKOFF && job.attemptsMade + 1 < (job.opts.attempts ?? 1)) {
        await progress.settled();
        throw new RetryLater(outcome.error.message, outcome.runAt);
      }
      await this.#delay(job, token, outcome.runAt);
    }
    if (outcome.kind !== 'done' || !outcome.ended) return undefined;
    const ended = await outcome.ended();
    await progress.settled();
    return endOf(this.#setup.bullmq, job, carried.id, ended, outcome.ran !== false, progress.reported, this.#setup.jsonb);
  }
}
