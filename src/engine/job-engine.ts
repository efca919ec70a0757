import type { BackendDrivers, BackendHost, JobBackend } from '../backend/job-backend.js';
import type { DispatchedJob, ForeignJob, JobDispatcher, RunOutcome } from '../backend/job-dispatcher.js';
import type { JobScheduler, ScheduleRecord, ScheduleState, ScheduleTick } from '../backend/job-scheduler.js';
import { checkSubmitOptions } from '../tracker/options.js';
import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, CreateResult, JobChange, JobStore, StoreListQuery } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { JobwireError, messageOf, type JobwireErrorCode } from '../errors.js';
import { logDebug } from '../logger.js';
import { createJobId } from '../ids.js';
import { isTerminalStatus, type JobEvent, type JobSnapshot } from '../job.js';
import type { JobCounts, JobOutput, JobPage } from '../tracker/types.js';
import { outputOf } from '../output/job-output.js';
import { Deadlines } from './deadlines.js';
import { EventHub } from './event-hub.js';
import { EventStream } from './event-stream.js';
import { snapshotOf } from './job-json.js';
import { JobRun, type RunHost } from './job-run.js';
import { boundedText, checkedJson } from './json-limits.js';
import { abortReason, endedRecord, queuedRecord, requeuedRecord, sameChange, startedRecord, type NewJob } from './records.js';
import { retryDelay } from './retry.js';
import { ResultSaver } from './result-saver.js';
import { settleWithin } from './settle-within.js';
import { checkedTraceContext } from './trace-context.js';
import type { SubmitTrace } from '../tracker/trace-hooks.js';
import type { EngineHost } from './types.js';

/** What `close()` gives jobs that were still waiting when their dispatcher stopped. */
/** Why `close()` cancelled a job that was waiting: to start, or for its retry. */
const closedWhileWaiting = (record: JobRecord): string => (record.attempt > 1 ? 'Tracker closed while the job waited to be retried' : 'Tracker closed before the job started');

/** A store call made for a caller: bounded in time unless the store answers in this process. */
type Bounded = <T>(call: () => Promise<T>, what: string) => Promise<T>;

/** The bound of a store that answers in this process: none (a call that throws at once rejects, as a bounded one does). */
const direct: Bounded = (call) => promiseOf(call);

/**
 * The one job lifecycle, the same on every backend: create → dispatch → claim → run (context,
 * timeout, cancel, progress) → check and save the result → end. The drivers of a backend only
 * keep records and logs (store), carry events and cancels (bus) and hand out jobs (dispatcher);
 * every decision about a job is made here, against the transition table, and every record and
 * event is built here (see `records.ts` and `job-json.ts`).
 */
export class JobEngine {
  readonly #host: EngineHost;
  readonly #hub: EventHub;
  readonly #opening: Promise<BackendDrivers>;
  /** Set once the drivers are open and subscribed: calls then use them without waiting. */
  #drivers: BackendDrivers | undefined;
  readonly #deadlines: Deadlines;
  readonly #saver: ResultSaver | undefined;
  /** Runs of this process by job id (what a cancel request aborts). */
  readonly #runs = new Map<string, JobRun>();
  /**
   * Jobs being claimed here, by id: a cancel that arrives before the run exists is kept and applied
   * to it (once any process can see a job running, a cancel for it finds this process listening).
   */
  readonly #claiming = new Map<string, { reason: JobwireError | undefined }>();
  /** Runs in flight here, each until its end is recorded (a plugin that ignores its abort may keep one longer). */
  readonly #active = new Set<JobRun>();
  /** Claims in flight here (a claimed job runs here next): close() waits for them, see `#whenClaimed`. */
  #claimsInFlight = 0;
  /** Jobs being re-checked after a resync: true when another resync asked for one more read. */
  readonly #rechecking = new Map<string, boolean>();
  #claimsSettled: { promise: Promise<void>; resolve: () => void } | undefined;
  /** What every run of this process shares: the store's bounded compare-and-set, the saver, the host. */
  #runHost: RunHost | undefined;
  readonly #sweeper: NodeJS.Timeout | undefined;
  #closing = false;
  #closed = false;
  #barrier: Promise<unknown> | undefined;

  constructor(host: EngineHost, backend: JobBackend) {
    this.#host = host;
    const { settings } = host;
    this.#deadlines = new Deadlines(settings.storeTimeoutMs);
    if (host.storage) this.#saver = new ResultSaver(host.storage, host.logger, (event) => host.emitStorageFailed(event), settings.saveTimeoutMs);
    this.#hub = new EventHub((id: string) => this.#read((store) => store.log(id, host.now()), 'read a log'), host, (id, seq, reason) => this.#ended(id, seq, reason));
    const backendHost: BackendHost = {
      plugins: host.plugins,
      settings: { concurrency: settings.concurrency, maxQueued: settings.maxQueued, ttlMs: settings.ttlMs },
      now: host.now,
      logger: host.logger,
    };
    let opened: BackendDrivers | Promise<BackendDrivers>;
    try {
      opened = backend.open(backendHost);
    } catch (error) {
      opened = Promise.reject(error);
    }
    this.#opening = Promise.resolve(opened).then((drivers) => this.#start(drivers));
    this.#opening.catch((error: unknown) => host.logger.error({ err: error }, `jobwire: the backend failed to open: ${messageOf(error)}`));
    if (Number.isFinite(settings.ttlMs)) {
      this.#sweeper = setInterval(() => void this.sweep().catch((error: unknown) => host.logger.warn({ err: error }, `jobwire: sweep failed: ${messageOf(error)}`)), settings.sweepIntervalMs);
      this.#sweeper.unref(); // the sweep must never keep the process alive
    }
  }

  /** Resolves once the backend is open and (where this process runs jobs) its dispatcher takes jobs. */
  async ready(): Promise<void> {
    await this.#opening;
  }

  /**
   * Store a new job and queue it; resolves with its `queued` snapshot (or the existing job of its
   * idempotency key). A traced tracker's submit is traced from here, synchronously, in the
   * caller's context (also for `retry` and schedule ticks, which submit through here).
   */
  submit(job: NewJob): Promise<JobSnapshot> {
    // A submit that fails its checks (a too large or too deep input or metadata) is traced by no span.
    try {
      this.#checkJobJson(job.input, job.metadata);
    } catch (error) {
      return Promise.reject(error);
    }
    const tracing = this.#host.tracing;
    if (!tracing) return this.#submit(job);
    let traced: SubmitTrace;
    try {
      traced = tracing.submit(job);
    } catch (error) {
      // Telemetry never fails a submit.
      this.#host.logger.warn({ err: error }, `jobwire: could not trace a submit: ${messageOf(error)}`);
      return this.#submit(job);
    }
    const traceContext = checkedTraceContext(traced.traceContext);
    if (traceContext === undefined && traced.traceContext !== undefined) this.#host.logger.debug({ plugin: job.plugin }, 'jobwire: dropped a trace context that is malformed or too large');
    const submitting = this.#submit({ ...job, traceContext });
    submitting
      .then(
        (snapshot) => traced.settled(snapshot, undefined),
        (error: unknown) => traced.settled(undefined, error),
      )
      .catch(logDebug(this.#host.logger, 'could not trace the end of a submit', { plugin: job.plugin }));
    return submitting;
  }

  /** Store a new job (its input and metadata checked already) and queue it. */
  async #submit(job: NewJob): Promise<JobSnapshot> {
    const drivers = this.#openNow() ?? (await this.#open());
    const { store, dispatcher } = drivers;
    const now = this.#host.now();
    const record = queuedRecord(createJobId(), job, this.#host.plugins.getMeta(job.plugin), now);
    // A job that would start at once does not count against maxQueued; a delayed one waits.
    const maxQueued = this.#host.settings.maxQueued + (record.runAt === undefined ? (dispatcher.idleSlots?.() ?? 0) : 0);
    const bounded = this.#bounded(store);
    const storing = store.create(record, now, { maxQueued, now });
    const creating = bounded(() => storing, 'create a job');
    let created: Awaited<typeof creating>;
    // A queue that does not answer fails the submit in time, as the store does.
    if (dispatcher.ordered) {
      // One connection, in order: the job cannot be handed out before its record is written.
      const queued = promiseOf(() => dispatcher.enqueue(record)); // a driver that throws at once fails like one that rejects
      const enqueueing = bounded(() => queued, 'queue a job');
      enqueueing.catch(() => undefined); // awaited only when the job was created; its failure is `queued`'s, handled below
      try {
        created = await creating;
      } catch (error) {
        this.#settleLate(drivers, record, storing, queued);
        throw error;
      }
      if (created.outcome !== 'created') void queued.then(() => dispatcher.discard(record)).catch(logDebug(this.#host.logger, 'could not drop a job its create refused', { jobId: record.id }));
      else await this.#enqueued(enqueueing, bounded, drivers, record);
    } else {
      try {
        created = await creating;
      } catch (error) {
        this.#settleLate(drivers, record, storing);
        throw error;
      }
      if (created.outcome === 'created') await this.#enqueued(bounded(() => dispatcher.enqueue(record), 'queue a job'), bounded, drivers, record);
    }
    if (created.outcome === 'full') throw new JobwireError('QUEUE_FULL', `Queue is full (${this.#host.settings.maxQueued} waiting jobs)`);
    return snapshotOf(created.outcome === 'existing' ? created.record : record);
  }

  /** A job whose queue entry could not be made in time: the submit fails `UNAVAILABLE`. */
  async #enqueued(enqueueing: Promise<void>, bounded: Bounded, drivers: BackendDrivers, record: JobRecord): Promise<void> {
    try {
      await enqueueing;
    } catch (error) {
      if (record.idempotencyKey !== undefined) {
        // A retry with the same key finds this job, so it must run: queued again in the background.
        this.#enqueueLate(drivers.dispatcher, record);
      } else {
        // Never existed for the caller: its record goes (bounded too, so the submit answers in time;
        // a queue entry that lands later finds no record to run).
        const { store } = drivers;
        await bounded(() => store.remove(record.id), 'remove a job that could not be queued').catch(() => this.#removeLate(store, record.id));
      }
      throw new JobwireError('UNAVAILABLE', `Could not queue the job: ${messageOf(error)}`, { cause: error });
    }
  }

  /**
   * The submit answered `UNAVAILABLE`, but a shared store's create (and an ordered queue's entry)
   * may still land after their bounds. Once they settle: a job created with an idempotency key is
   * kept and queued, since a retry with the same key returns it and it must run; one without a key
   * is removed again (the caller was told it does not exist), and its queue entry dropped.
   */
  #settleLate(drivers: BackendDrivers, record: JobRecord, storing: Promise<CreateResult>, queued?: Promise<void>): void {
    const { store, dispatcher } = drivers;
    if (store.inProcess) return; // an in-process create that failed wrote nothing
    const logged = logDebug(this.#host.logger, 'could not settle a job whose create answered late', { jobId: record.id });
    void storing
      .then((result) => result.outcome === 'created', () => false)
      .then(async (created) => {
        const keep = created && record.idempotencyKey !== undefined;
        if (created && !keep) this.#removeLate(store, record.id);
        if (!queued) {
          if (keep) this.#enqueueLate(dispatcher, record);
          // A store that adds the queue entry with the record (BullMQ on PostgreSQL) added it too.
          else if (created) await dispatcher.discard(record);
          return;
        }
        const entered = await queued.then(() => true, () => false);
        if (keep && !entered) this.#enqueueLate(dispatcher, record);
        if (!keep && entered) await dispatcher.discard(record);
      })
      .catch(logged);
  }

  /** Remove job `id` in the background, tried again while the store fails (until the tracker closes). */
  #removeLate(store: JobStore, id: string): void {
    void this.#persist(id, 'remove a job the caller was told failed', () => store.remove(id)).catch(logDebug(this.#host.logger, 'gave up removing a job the caller was told failed', { jobId: id }));
  }

  /** Queue `record` in the background, tried again while the queue fails (until the tracker closes). */
  #enqueueLate(dispatcher: JobDispatcher, record: JobRecord): void {
    void this.#persist(record.id, 'queue a job whose submit answered late', () => dispatcher.enqueue(record)).catch((error: unknown) =>
      // Closed first: the job stays queued with no queue entry (a retry with its key returns it, and it does not run).
      this.#host.logger.warn({ jobId: record.id, err: error }, `jobwire: could not queue a job whose submit answered late before the tracker closed; it will not run: ${messageOf(error)}`),
    );
  }

  async get(id: string): Promise<JobSnapshot | undefined> {
    const record = await this.#read((store) => store.get(id, this.#host.now()), 'read a job');
    return record && snapshotOf(record);
  }

  /** The job's retained output. @throws JobwireError `JOB_NOT_FOUND` */
  async output(id: string): Promise<JobOutput> {
    const log = await this.#read((store) => store.log(id, this.#host.now()), "read a job's output");
    if (!log) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
    return outputOf(log);
  }

  async list(query: Omit<StoreListQuery, 'now'>): Promise<JobPage> {
    const page = await this.#read((store) => store.list({ ...query, now: this.#host.now() }), 'list jobs');
    const jobs = page.records.map(snapshotOf);
    return page.nextCursor === undefined ? { jobs } : { jobs, nextCursor: page.nextCursor };
  }

  /**
   * End a live job as `cancelled` with `code`, and ask whichever process runs it to abort it. A
   * finished job is returned unchanged. Retries its compare-and-set while the job keeps changing
   * (a run reporting progress), as long as it is live.
   */
  async cancel(id: string, reason: string, code: Extract<JobwireErrorCode, 'CANCELLED' | 'CLOSED'>): Promise<JobSnapshot> {
    return this.#cancel(this.#openNow() ?? (await this.#open()), id, reason, code);
  }

  /** `reason` may depend on the job as it is when cancelled. */
  async #cancel({ store, dispatcher }: BackendDrivers, id: string, reason: string | ((record: JobRecord) => string), code: Extract<JobwireErrorCode, 'CANCELLED' | 'CLOSED'>): Promise<JobSnapshot> {
    const bounded = this.#bounded(store);
    const reasonFor = (record: JobRecord): string => boundedText(typeof reason === 'string' ? reason : reason(record), this.#host.settings.limits.messageLength);
    // A job running here: its run holds the latest record (a stale one only costs a retry below).
    let record = this.#runs.get(id)?.record ?? (await bounded(() => store.get(id, this.#host.now()), 'read a job'));
    for (;;) {
      if (!record) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
      if (isTerminalStatus(record.status)) return snapshotOf(record);
      const at = this.#host.now();
      const next = endedRecord(record, 'cancelled', at, this.#host.settings.ttlMs, { error: { code, message: reasonFor(record) } });
      // The `cancelled` event this writes is what aborts the job in whichever process runs it.
      const result: CommitResult = await bounded(() => store.commit({ record: next, at, replacesLast: false }), 'cancel a job');
      if (result.ok) {
        // A waiting job leaves its queue.
        if (record.status === 'queued') await bounded(() => dispatcher.discard(next), 'drop a cancelled job from its queue').catch((error: unknown) => this.#host.logger.debug({ jobId: id, err: error }, `jobwire: could not drop a cancelled job from its queue: ${messageOf(error)}`));
        return snapshotOf(next);
      }
      record = result.current;
    }
  }

  /** Cancel (if live) and delete a job. Resolves whether it existed. */
  async remove(id: string): Promise<boolean> {
    const { store, dispatcher } = await this.#open();
    const bounded = this.#bounded(store);
    const record = await bounded(() => store.get(id, this.#host.now()), 'read a job');
    if (!record) return false;
    if (!isTerminalStatus(record.status)) {
      await this.cancel(id, 'Job removed', 'CANCELLED').catch((error: unknown) => this.#host.logger.debug({ jobId: id, err: error }, `jobwire: cancel before remove: ${messageOf(error)}`));
    }
    const announced = this.#hub.removal(id);
    const removed = await bounded(() => store.remove(id), 'remove a job');
    if (record.status === 'queued') await bounded(() => dispatcher.discard(record), 'drop a removed job from its queue').catch(logDebug(this.#host.logger, 'could not drop a removed job from its queue', { jobId: id })); // best effort: a claim finds it gone anyway
    if (removed) await announced; // this process's listeners heard of it before remove() resolves
    return removed !== undefined;
  }

  /** The job's events after `afterSeq`, then live ones; see `JobTracker.events`. */
  events(id: string, afterSeq: number, signal: AbortSignal | undefined): AsyncIterableIterator<JobEvent> {
    if (this.#closed && !this.#drivers?.store.inProcess) return EventStream.failed(new JobwireError('CLOSED', 'The tracker is closed'));
    return this.#hub.events(id, afterSeq, signal);
  }

  /** Counts by status now (expired jobs swept first). */
  async counts(): Promise<JobCounts> {
    await this.sweep();
    return this.#read((store) => store.counts(this.#host.now()), 'count jobs');
  }

  /**
   * Submit a finished job again as a new one: same plugin, input and options, `retryOf` set.
   * @throws JobwireError `JOB_NOT_FOUND`; `INVALID_REQUEST` unless it `failed` or was `cancelled`.
   */
  async retry(id: string): Promise<JobSnapshot> {
    const record = await this.#read((store) => store.get(id, this.#host.now()), 'read a job');
    if (!record) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
    if (record.status !== 'failed' && record.status !== 'cancelled') {
      throw new JobwireError('INVALID_REQUEST', `Only a failed or cancelled job can be re-run; job ${id} is ${record.status}`);
    }
    if (!this.#host.plugins.has(record.plugin)) throw new JobwireError('PLUGIN_NOT_FOUND', `Plugin "${record.plugin}" is not registered`);
    return this.submit({
      plugin: record.plugin,
      input: record.input,
      tenantId: record.tenantId,
      workspaceId: record.workspaceId,
      metadata: record.metadata,
      priority: record.priority,
      timeoutMs: record.timeoutMs,
      idempotencyKey: undefined,
      attempts: record.maxAttempts,
      backoff: record.backoff,
      retryOnTimeout: record.retryOnTimeout,
      runAt: undefined,
      delayMs: undefined,
      retryOf: record.id,
      scheduleKey: undefined,
    });
  }

  /** Create or replace a schedule. @throws JobwireError `INVALID_CONFIG` when the backend keeps no schedules. */
  async schedule(schedule: ScheduleRecord): Promise<void> {
    const scheduler = await this.#scheduler();
    await this.#bounded((await this.#open()).store)(() => scheduler.upsert(schedule), 'save a schedule');
  }

  /** Delete a schedule; whether it existed. */
  async unschedule(key: string): Promise<boolean> {
    const scheduler = await this.#scheduler();
    return this.#bounded((await this.#open()).store)(() => scheduler.remove(key), 'remove a schedule');
  }

  /** Every schedule with its next tick. */
  async schedules(): Promise<ScheduleState[]> {
    const scheduler = await this.#scheduler();
    return this.#bounded((await this.#open()).store)(() => scheduler.list(), 'list schedules');
  }

  async #scheduler(): Promise<JobScheduler> {
    const { scheduler } = this.#openNow() ?? (await this.#open());
    if (!scheduler) throw new JobwireError('INVALID_CONFIG', 'This backend keeps no schedules (its drivers have no `scheduler`)');
    return scheduler;
  }

  /** A schedule ticked (in this process, or handed here by a shared scheduler): submit its job, once per tick. */
  async #tick({ schedule, at }: ScheduleTick): Promise<void> {
    if (this.#closing) throw new JobwireError('CLOSED', 'The tracker is closing');
    this.#host.logger.debug({ schedule: schedule.key, at }, `jobwire: schedule "${schedule.key}" ticks for ${new Date(at).toISOString()}`);
    const input = this.#host.plugins.validateInput(schedule.plugin, schedule.input);
    const options = checkSubmitOptions(schedule.options);
    await this.submit({
      ...options,
      plugin: schedule.plugin,
      input,
      // The tick names the job: a tick handed out twice (its process died while submitting) makes one job.
      idempotencyKey: `jobwire:schedule:${schedule.key}:${at}`,
      runAt: undefined,
      delayMs: undefined,
      retryOf: undefined,
      scheduleKey: schedule.key,
    });
  }

  /** Remove every finished job past its TTL; how many. Runs every `sweepIntervalMs` by itself. */
  async sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const ids = await this.#read((store) => store.expire(this.#host.now(), 1_000), 'sweep expired jobs');
      total += ids.length;
      if (ids.length < 1_000) return total;
    }
  }

  /**
   * Shut down: stop taking jobs; jobs still waiting that no other process will run end
   * `cancelled` (`CLOSED`) at once; running ones get `timeoutMs`, then are cancelled (`CLOSED`).
   */
  async close(timeoutMs: number): Promise<void> {
    this.#closing = true;
    if (this.#sweeper) clearInterval(this.#sweeper);
    // Reads made after close() wait for this: by then, jobs no other process will run are cancelled.
    const stopping = (this.#barrier = this.#stopDispatching());
    let drivers: BackendDrivers;
    try {
      drivers = await stopping;
    } catch {
      // Only when the backend never opened (reported when it failed): there is nothing to stop or close.
      this.#closed = true;
      return;
    }
    // A job claimed just now is running for everyone else already: it gets the same grace and the same cancel.
    await this.#whenClaimed();
    await settleWithin([...this.#active].map((run) => run.whenDone()), timeoutMs);
    await this.#whenClaimed(); // one handed out during the grace (a dispatcher that stops late) is swept too
    await Promise.all(
      [...this.#runs.keys()].map((id) => this.#cancel(drivers, id, `Tracker closed; the job did not finish within ${timeoutMs} ms`, 'CLOSED').catch((error: unknown) => this.#host.logger.warn({ jobId: id, err: error }, `jobwire: could not cancel a job on close: ${messageOf(error)}`))),
    );
    if (drivers.store.inProcess) await this.#cancelStranded(drivers);
    await this.#saver?.flush();
    this.#closed = true;
    if (!drivers.store.inProcess) {
      // A shared store's connections go; an in-process store stays readable.
      this.#hub.close();
      await drivers.bus.close().catch((error: unknown) => this.#host.logger.warn({ err: error }, `jobwire: closing the bus failed: ${messageOf(error)}`));
      await drivers.close?.();
    }
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /**
   * An in-process store's jobs die with the process: any still `queued` once the dispatcher has
   * stopped and the runs are over (a try that failed during the grace and was to be retried) is
   * cancelled (`CLOSED`) too, as the dispatcher's waiting jobs were.
   */
  async #cancelStranded(drivers: BackendDrivers): Promise<void> {
    const statuses = new Set(['queued' as const]);
    const stranded: JobRecord[] = [];
    let cursor: string | undefined;
    do {
      const page = await drivers.store.list({ tenantId: undefined, workspaceId: undefined, plugin: undefined, statuses, limit: 1_000, cursor, now: this.#host.now() });
      stranded.push(...page.records);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    await Promise.all(
      stranded.map((record) =>
        this.#cancel(drivers, record.id, closedWhileWaiting, 'CLOSED').catch(logDebug(this.#host.logger, 'could not cancel a waiting job on close', { jobId: record.id })),
      ),
    );
  }

  /**
   * Resolves once no claim is in flight here: each has registered its run or found the job not
   * runnable. Bounded: while closing, a claim the store does not answer in time gives up.
   */
  #whenClaimed(): Promise<void> {
    if (this.#claimsInFlight === 0) return Promise.resolve();
    if (!this.#claimsSettled) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.#claimsSettled = { promise, resolve };
    }
    return this.#claimsSettled.promise;
  }

  /** A run is over: it no longer holds the job here. */
  readonly #runDone = (run: JobRun): void => {
    this.#active.delete(run);
    if (this.#runs.get(run.id) === run) this.#runs.delete(run.id);
  };

  /** The run host every run of this process shares. */
  #makeRunHost(store: JobStore): RunHost {
    const bounded = this.#bounded(store);
    const engine = this;
    return {
      host: this.#host,
      saver: this.#saver,
      commit: (change) => bounded(() => store.commit(change), 'record a job change'),
      append: (batch) => bounded(() => store.append(batch), "record a job's output"),
      readLog: (id) => bounded(() => store.log(id, this.#host.now()), "read a job's output"),
      get closing() {
        return engine.#closing;
      },
    };
  }

  /** A job ended or was removed, anywhere: if it runs (or is being claimed) here, that run is over. */
  #ended(jobId: string, seq: number, reason: () => JobwireError): void {
    const run = this.#runs.get(jobId);
    if (run) run.ended(seq, reason);
    else {
      const claiming = this.#claiming.get(jobId);
      if (claiming) claiming.reason = reason();
    }
  }

  /**
   * The bus came back after a break: a job of this process that ended or was removed meanwhile
   * (its event lost with the connection) is found in the store, and its run aborts as if the event
   * had arrived. Without this, a cancel sent during the gap would leave the plugin running, holding
   * its slot, while the job says `cancelled`.
   */
  #recheckRuns(): void {
    if (this.#closed) return;
    for (const id of new Set([...this.#runs.keys(), ...this.#claiming.keys()])) {
      // One re-check per job at a time (resyncs come in bursts while a database is down); a resync
      // during a read asks for one more read once it answers.
      if (this.#rechecking.has(id)) this.#rechecking.set(id, true);
      else void this.#recheck(id);
    }
  }

  /** Read the job a run (or a claim) of this process holds; if it ended or is gone, that run is over. */
  async #recheck(id: string): Promise<void> {
    try {
      do {
        this.#rechecking.set(id, false);
        await this.#recheckOnce(id);
      } while (this.#rechecking.get(id) === true);
    } finally {
      this.#rechecking.delete(id);
    }
  }

  async #recheckOnce(id: string): Promise<void> {
    const store = this.#drivers?.store;
    if (!store) return;
    const bounded = this.#bounded(store);
    // While the job still runs here: a store that fails now (it may be coming back too) is asked again.
    for (let attempt = 0; this.#runs.has(id) || this.#claiming.has(id); attempt++) {
      let record: JobRecord | undefined;
      try {
        record = await bounded(() => store.get(id, this.#host.now()), 'read a running job');
      } catch (error) {
        if (this.#closing) return;
        this.#host.logger.warn({ jobId: id, err: error, attempt }, `jobwire: could not read a running job after the bus reconnected; trying again: ${messageOf(error)}`);
        await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt)));
        continue;
      }
      if (!record) this.#ended(id, -1, () => abortReason('CANCELLED', 'Job removed'));
      else if (isTerminalStatus(record.status)) {
        const { error, status } = record;
        // Its seq: a run that wrote this end itself is not aborted by it.
        this.#ended(id, record.seq, () => abortReason((error?.code ?? 'CANCELLED') as JobwireErrorCode, error?.message ?? `Job ${status} elsewhere`));
      }
      return;
    }
  }

  /**
   * Stop the dispatcher; cancel (`CLOSED`) the waiting jobs that die with it. A dispatcher that
   * fails to stop is logged, and the shutdown goes on: running jobs are still cancelled and the
   * connections closed. Rejects only when the backend never opened.
   */
  async #stopDispatching(): Promise<BackendDrivers> {
    const drivers = this.#drivers ?? (await this.#opening);
    if (drivers.runs !== false) {
      await drivers.scheduler?.stop().catch((error: unknown) => this.#host.logger.warn({ err: error }, `jobwire: stopping the scheduler failed: ${messageOf(error)}`));
      let orphans: string[] = [];
      try {
        orphans = await drivers.dispatcher.stop();
      } catch (error) {
        this.#host.logger.warn({ err: error }, `jobwire: stopping the dispatcher failed; closing the rest: ${messageOf(error)}`);
      }
      await Promise.all(orphans.map((id) => this.#cancel(drivers, id, closedWhileWaiting, 'CLOSED').catch(logDebug(this.#host.logger, 'could not cancel a waiting job on close', { jobId: id }))));
    }
    return drivers;
  }

  async #start(drivers: BackendDrivers): Promise<BackendDrivers> {
    const hub = this.#hub;
    await drivers.bus.subscribe({
      event: (event: LoggedEvent) => hub.event(event),
      removed: (record: JobRecord) => hub.removed(record),
      resync: () => {
        hub.resync();
        this.#recheckRuns();
      },
    });
    if (drivers.runs !== false) {
      await drivers.dispatcher.start({
        run: (job) => this.#run(job),
        lost: (id, reason) => void this.#lost(id, reason),
        vanished: (id, reason) => void this.#vanished(id, reason),
        adopt: (job) => this.#adopt(job),
      });
      await drivers.scheduler?.start((tick) => this.#tick(tick));
    }
    this.#drivers = drivers;
    return drivers;
  }

  /** The open drivers; throws `CLOSED` once a shared store was closed. */
  async #open(): Promise<BackendDrivers> {
    if (this.#barrier) await this.#barrier.catch(() => undefined); // it rejects only when the backend never opened: the next line rethrows that
    const drivers = this.#drivers ?? (await this.#opening);
    if (this.#closed && !drivers.store.inProcess) throw new JobwireError('CLOSED', 'The tracker is closed');
    return drivers;
  }

  /** A bounded read of the store. */
  async #read<T>(read: (store: JobStore) => Promise<T>, what: string): Promise<T> {
    const { store } = this.#openNow() ?? (await this.#open());
    return this.#bounded(store)(() => read(store), what);
  }

  /** The drivers when they can be used at once (open, and no close under way); else undefined. */
  #openNow(): BackendDrivers | undefined {
    return this.#barrier === undefined ? this.#drivers : undefined;
  }

  #bounded(store: JobStore): Bounded {
    if (store.inProcess) return direct;
    return (call, what) => this.#deadlines.run(call, what);
  }

  /** The dispatcher hands this process a job: claim it, run it. Resolves when its slot is free; never rejects. */
  async #run(job: DispatchedJob): Promise<RunOutcome> {
    let claimed = false;
    try {
      const drivers = this.#drivers ?? (await this.#opening);
      const store = drivers.store;
      const host = (this.#runHost ??= this.#makeRunHost(store));
      const claiming: { reason: JobwireError | undefined } = { reason: undefined };
      this.#claiming.set(job.id, claiming);
      this.#claimsInFlight++;
      let run: JobRun | undefined;
      let later: number | undefined;
      let skipped: Skipped | undefined;
      try {
        const record = await this.#claim(job, store, host.commit);
        claimed = true;
        if (typeof record === 'number') later = record;
        else if (record instanceof Skipped) skipped = record;
        else {
          run = new JobRun(host, record, this.#runDone, job.onProgress);
          this.#runs.set(job.id, run);
          this.#active.add(run);
          if (claiming.reason) run.abort(claiming.reason); // cancelled while it was being claimed: the plugin starts aborted
        }
      } finally {
        if (this.#claiming.get(job.id) === claiming) this.#claiming.delete(job.id);
        if (--this.#claimsInFlight === 0 && this.#claimsSettled) {
          this.#claimsSettled.resolve();
          this.#claimsSettled = undefined;
        }
      }
      // The slot is free once the plugin settled; the result is saved and recorded after. A try
      // that failed and is retried comes back with the time of its next try.
      if (run) later = await run.execute();
      if (later !== undefined) {
        const error = run?.record.lastError;
        return error === undefined ? { kind: 'later', runAt: later } : { kind: 'later', runAt: later, error };
      }
      if (skipped) {
        const { record } = skipped;
        return { kind: 'done', ran: false, ended: () => Promise.resolve(record) };
      }
      const ran = run;
      if (!ran) return DONE;
      return { kind: 'done', ran: true, ended: () => this.#endOf(ran, store) };
    } catch (error) {
      // Not claimed while closing (a claim is tried until the store answers or the tracker closes):
      // the queue takes it back. Any other failure is not the queue's to retry.
      this.#host.logger[claimed ? 'error' : 'warn']({ jobId: job.id, err: error }, `jobwire: could not ${claimed ? 'run' : 'take'} a job: ${messageOf(error)}`);
      return claimed || !this.#closing ? DONE : DECLINED;
    }
  }

  /**
   * How a run's job ended, once its end is recorded: the run's own last record when it wrote the
   * end, else the store's (the job was cancelled or failed elsewhere). Never rejects.
   */
  async #endOf(run: JobRun, store: JobStore): Promise<JobRecord | undefined> {
    await run.whenDone();
    if (isTerminalStatus(run.record.status)) return run.record;
    try {
      return await this.#bounded(store)(() => store.get(run.id, this.#host.now()), 'read how a job ended');
    } catch (error) {
      this.#host.logger.debug({ jobId: run.id, err: error }, `jobwire: could not read how a job ended: ${messageOf(error)}`);
      return run.record;
    }
  }

  /**
   * Take the job: `queued → running`, as a compare-and-set. A job handed out again after its
   * worker stopped goes back to `queued` first (its events say so). {@link Skipped} when it is not
   * to be run: cancelled, finished, removed, or running elsewhere. A number when it is not due yet:
   * the time it may start (a delayed job or a retry handed out before its `runAt`).
   */
  async #claim(job: DispatchedJob, store: JobStore, commit: (change: JobChange) => Promise<CommitResult>): Promise<JobRecord | number | Skipped> {
    const read = (): Promise<JobRecord | undefined> => this.#bounded(store)(() => store.get(job.id, this.#host.now()), 'read a job');
    let record = job.record ?? (await this.#persist(job.id, 'read a job to run', read));
    for (;;) {
      if (!record) return new Skipped(undefined);
      let next: JobRecord;
      const now = this.#host.now();
      if (record.status === 'queued' && record.runAt !== undefined && record.runAt > now && job.promoted !== true) {
        // The carried record may be older than the store's (a retry's): only the store's time counts.
        if (record === job.record) {
          record = await this.#persist(job.id, 'read a job to run', read);
          continue;
        }
        return record.runAt;
      }
      if (record.status === 'queued') next = startedRecord(record, now);
      else if (record.status === 'running' && job.delivery > 1) next = requeuedRecord(record, 'Requeued after the worker running it stopped');
      else return new Skipped(record);
      const change = next;
      // The job was handed to this process: a store that does not answer must not lose it (the queue already let go of it).
      const result = await this.#persist(job.id, 'claim a job', () => commit({ record: change, at: this.#host.now(), replacesLast: false }));
      const landed = result.ok || (result.current !== undefined && sameChange(result.current, next));
      if (landed && next.status === 'running') return result.ok ? next : (result.current ?? next);
      record = landed ? next : result.current;
    }
  }

  /** `call`, tried again with backoff while the store fails, until it answers or the tracker closes (then it throws). */
  async #persist<T>(jobId: string, what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (this.#closing) throw error;
        this.#host.logger.warn({ jobId, err: error, attempt }, `jobwire: could not ${what}; trying again: ${messageOf(error)}`);
        await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt)));
      }
    }
  }

  /** A waiting job left its queue without the engine: cancelled with `reason` while it is still `queued` (a job that started meanwhile runs on). */
  async #vanished(id: string, reason: string): Promise<void> {
    try {
      await this.#endWhile(id, (record) => record.status === 'queued', 'cancelled', 'CANCELLED', reason, 'cancel a job its queue lost');
    } catch (error) {
      this.#host.logger.warn({ jobId: id, err: error }, `jobwire: could not cancel a job that left its queue: ${messageOf(error)}`);
    }
  }

  /**
   * End the job `status` with `code` and `reason` while `endable` says so of its stored record: a
   * read, then a compare-and-set, read again when another change landed first.
   */
  async #endWhile(id: string, endable: (record: JobRecord) => boolean, status: 'cancelled' | 'failed', code: 'CANCELLED' | 'PLUGIN_FAILED', reason: string, what: string): Promise<void> {
    const { store } = await this.#open();
    const bounded = this.#bounded(store);
    let record = await bounded(() => store.get(id, this.#host.now()), 'read a job');
    while (record && endable(record)) {
      const at = this.#host.now();
      const next = endedRecord(record, status, at, this.#host.settings.ttlMs, { error: { code, message: boundedText(reason, this.#host.settings.limits.messageLength) } });
      const result = await bounded(() => store.commit({ record: next, at, replacesLast: false }), what);
      if (result.ok) return;
      record = result.current;
    }
  }

  /**
   * A new job's input and metadata within the tracker's JSON limits (size and depth).
   * @throws JobwireError `INVALID_INPUT` (input) or `INVALID_REQUEST` (metadata).
   */
  #checkJobJson(input: unknown, metadata: unknown): void {
    const { limits } = this.#host.settings;
    checkedJson(input, 'input', limits.jsonDepth, limits.inputBytes, 'INVALID_INPUT');
    checkedJson(metadata, 'metadata', limits.jsonDepth, limits.metadataBytes, 'INVALID_REQUEST');
  }

  /** A queue entry that came without a record (added by another program) becomes a `queued` job, once per entry. */
  async #adopt(job: ForeignJob): Promise<JobRecord> {
    const { store } = await this.#open();
    const plugins = this.#host.plugins;
    const input = adoptedInput(() => plugins.validateInput(job.plugin, job.input), job.plugin);
    this.#checkJobJson(input, job.metadata);
    const now = this.#host.now();
    const record = queuedRecord(createJobId(), { ...ADOPTED, plugin: job.plugin, input, metadata: job.metadata, idempotencyKey: job.key }, plugins.getMeta(job.plugin), now);
    // Already in its queue: it counts against no limit, and is not queued again.
    const created = await this.#bounded(store)(() => store.create(record, now, { maxQueued: Infinity, now }), 'adopt a job');
    if (created.outcome === 'existing') return created.record;
    return record;
  }

  /** The dispatcher gave up on a job: it fails, whatever it was doing (its `failed` event aborts the run, wherever it is). */
  async #lost(id: string, reason: string): Promise<void> {
    try {
      await this.#endWhile(id, (record) => !isTerminalStatus(record.status), 'failed', 'PLUGIN_FAILED', reason, 'fail a job');
    } catch (error) {
      this.#host.logger.error({ jobId: id, err: error }, `jobwire: could not fail a job its queue gave up on: ${messageOf(error)}`);
    }
  }
}

const DONE: RunOutcome = Object.freeze({ kind: 'done' });

/** A job the claim found not runnable (ended, removed, running elsewhere): the record it found, if any. */
class Skipped {
  constructor(readonly record: JobRecord | undefined) {}
}

/**
 * The input of a job to adopt, as its plugin's schema gives it. Any error the schema throws (a
 * transform that throws, not only a failed check) refuses the job as `INVALID_INPUT`: the entry is
 * failed in its queue, not adopted again and again.
 */
function adoptedInput(validate: () => unknown, plugin: string): unknown {
  try {
    return validate();
  } catch (error) {
    if (error instanceof JobwireError) throw error;
    throw new JobwireError('INVALID_INPUT', `Invalid input for plugin "${plugin}": its input schema threw: ${messageOf(error)}`);
  }
}

/** The submit options of an adopted job: the defaults (its plugin's, where it has them). */
const ADOPTED: Omit<NewJob, 'plugin' | 'input' | 'metadata' | 'idempotencyKey'> = Object.freeze({
  tenantId: undefined,
  workspaceId: undefined,
  priority: 0,
  timeoutMs: undefined,
  attempts: undefined,
  backoff: undefined,
  retryOnTimeout: undefined,
  runAt: undefined,
  delayMs: undefined,
  retryOf: undefined,
  scheduleKey: undefined,
});
const DECLINED: RunOutcome = Object.freeze({ kind: 'declined' });

/** `call()`'s promise; a synchronous throw becomes its rejection. */
function promiseOf<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    return Promise.reject(error);
  }
}
