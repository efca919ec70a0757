import type { Job, Queue, QueueEvents, Worker } from 'bullmq';
import type { DispatchHandlers, JobDispatcher, RunOutcome } from '../backend/job-dispatcher.js';
import type { JobRecord } from '../backend/job-record.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import { settleWithin } from '../engine/settle-within.js';
import { isTickJob, isTickJobId } from './bullmq-scheduler.js';
import { parseRecord } from './record-json.js';
import { SlotGate } from './slot-gate.js';

/**
 * What a BullMQ job carries: the jobwire job's id and its record as it was queued, as JSON text
 * (BullMQ on PostgreSQL keeps data as jsonb, which cannot hold every string a record may).
 */
export interface QueuedJobData {
  id: string;
  record?: string;
}

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
  /** A fresh connection for a QueueEvents reader. */
  eventsConnection: () => unknown;
  plugins: PluginManager;
  logger: Logger;
  /** Jobs this process runs at once, over all its queues. */
  concurrency: number;
  ttlMs: number;
  stalled: { lockDurationMs: number; stalledIntervalMs: number; maxStalledCount: number };
  /** True when `enqueue` and the store share one ordered connection (Redis). */
  ordered: boolean;
  /** Called once the workers take jobs. */
  onStarted(): void;
}

/** The record a job carries, when it carries a readable one (the engine reads it from the store otherwise). */
function carriedRecord(data: QueuedJobData | undefined): JobRecord | undefined {
  if (typeof data?.record !== 'string') return undefined;
  try {
    return parseRecord(data.record);
  } catch {
    return undefined; // not ours, or damaged: the store has the truth
  }
}

/** BullMQ priorities run 1 (first) to 2^21; jobwire's run higher first. */
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
  readonly #events = new Map<string, QueueEvents>();
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
  #handlers: DispatchHandlers | undefined;
  #ticks: TickJobHandler | undefined;
  #scan: NodeJS.Timeout | undefined;
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
    const ageSeconds = Number.isFinite(this.#setup.ttlMs) ? Math.ceil(this.#setup.ttlMs / 1000) : undefined;
    const data: QueuedJobData = { id: record.id, record: JSON.stringify(record) };
    const delay = record.runAt === undefined ? 0 : Math.max(0, record.runAt - Date.now());
    await this.#queue(this.queueOf(record.plugin)).add(record.plugin, data, {
      jobId: record.id,
      priority: bullPriority(record.priority),
      ...(delay > 0 ? { delay } : {}),
      removeOnComplete: ageSeconds === undefined ? false : { age: ageSeconds },
      removeOnFail: ageSeconds === undefined ? false : { age: ageSeconds },
    });
  }

  /** Remove the job from its BullMQ queue, whatever set it waits in (delayed included); one a worker holds stays. */
  async discard(record: JobRecord): Promise<void> {
    await this.#queue(this.queueOf(record.plugin)).remove(record.id);
  }

  async start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#work(this.#setup.queueName, this.#setup.concurrency);
    await this.#workCappedPlugins();
    // Plugins registered (or capped) later get their queue's worker within a second.
    this.#scan = setInterval(() => void this.#workCappedPlugins().catch((error: unknown) => this.#setup.logger.warn({ err: error }, `jobwire: could not start a plugin's queue worker: ${messageOf(error)}`)), PLUGIN_SCAN_MS);
    this.#scan.unref();
    this.#setup.onStarted();
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
    this.#gate.wakeAll(); // jobs fetched and waiting for a slot go back now, while the connections are open
    await Promise.all([...this.#workers.values()].map((worker) => worker.pause(true)));
    await Promise.all([this.#handedBack(), this.#ticksRecorded()]);
    return [];
  }

  /** Close every worker, events reader and queue this dispatcher opened. */
  async close(): Promise<void> {
    this.#stopped = true;
    if (this.#scan) clearInterval(this.#scan);
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
    for (const meta of this.#setup.plugins.list()) {
      if (meta.concurrency !== undefined) await this.#work(this.queueOf(meta.name), Math.min(meta.concurrency, this.#setup.concurrency), meta.concurrency);
    }
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
    const worker = new bullmq.Worker(name, (job: Job<QueuedJobData>, token?: string) => this.#process(job, token), {
      ...bullOptions,
      concurrency,
      lockDuration: stalled.lockDurationMs,
      stalledInterval: stalled.stalledIntervalMs,
      maxStalledCount: stalled.maxStalledCount,
    }, backendFactory as never);
    this.#workers.set(name, worker);
    worker.on('error', (error) => logger.warn({ err: error }, `jobwire: BullMQ worker error: ${error.message}`));
    worker.on('completed', (job) => this.#tickRecorded(job.id));
    worker.on('failed', (job) => this.#tickRecorded(job?.id));
    // Our processor throws only BullMQ's own signals (a job delayed or put back) and a tick's
    // failure, so BullMQ fails a jobwire job only when it gives up on it — after the workers
    // holding it kept losing it (stalled more than maxStalledCount). QueueEvents hears it wherever
    // that happened.
    const events = new bullmq.QueueEvents(name, { connection: this.#setup.eventsConnection() as never, prefix: bullOptions.prefix }, backendFactory as never);
    this.#events.set(name, events);
    events.on('error', (error) => logger.warn({ err: error }, `jobwire: BullMQ events error: ${error.message}`));
    events.on('failed', ({ jobId, failedReason }) => {
      if (isTickJobId(jobId)) return; // a schedule's tick: the worker where it failed logged it
      this.#handlers?.lost(jobId, `BullMQ gave up on the job: the worker running it was lost ${stalled.maxStalledCount + 1} times (it stopped, or could not renew its lock) (${failedReason})`);
    });
    await Promise.all([worker.waitUntilReady(), events.waitUntilReady()]);
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
  async #handBack(job: Job<QueuedJobData>, token: string | undefined): Promise<never> {
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

  async #process(job: Job<QueuedJobData>, token: string | undefined): Promise<void> {
    if (isTickJob(job)) return this.#tick(job, token); // takes no slot: it only submits a job
    const handlers = this.#handlers;
    if (!handlers || job.id === undefined) return;
    const granted = await this.#gate.acquire();
    if (this.#stopped) {
      // Stopped while it waited for a slot here: back to the queue for another worker (or the next
      // start). Handed to a closing engine, it would be claimed after close() swept its runs.
      if (granted) this.#gate.release();
      await this.#handBack(job, token);
    }
    let outcome: RunOutcome;
    try {
      // A job added by hand (not by a tracker) carries no record: the engine reads it, or finds none.
      outcome = await handlers.run({ id: job.id, plugin: job.name, delivery: job.attemptsStarted, record: carriedRecord(job.data) });
    } finally {
      this.#gate.release();
    }
    if (outcome.kind === 'declined') await this.#handBack(job, token); // the closing engine could not claim it: another worker will
    // A retry waiting for its backoff, or a delayed job handed out early: the wait is kept in the
    // database, so a worker that dies meanwhile loses nothing, and any worker takes it when due.
    if (outcome.kind === 'later') await this.#delay(job, token, outcome.runAt);
  }
}
