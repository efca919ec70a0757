import type { Queue, QueueEvents, Worker } from 'bullmq';
import { JobwireError, messageOf, type JobwireErrorCode } from '../errors.js';
import { createJobId } from '../ids.js';
import { isTerminalStatus, type JobEvent, type JobSnapshot } from '../job.js';
import { decodeCursor, encodeCursor } from '../ordered-index.js';
import type { BackendEventsOptions, BackendHost, BackendListQuery, JobBackend, NewJob } from '../tracker/backend.js';
import { EventStream } from '../tracker/event-stream.js';
import { isoTime } from '../tracker/job-record.js';
import { settleWithin } from '../tracker/settle-within.js';
import type { JobPage, JobCounts } from '../tracker/types.js';
import { EventHub } from './event-hub.js';
import { encodeJson, endStamps, type Bus, type JobStore } from './job-store.js';
import { PostgresBus, PostgresJobStore } from './pg-store.js';
import { importOptional } from '../optional.js';
import { loadDrivers } from './load.js';
import { checkBullMQOptions, type BullMQBackendOptions, type CheckedBullMQOptions } from './options.js';
import { JobRunner } from './runner.js';
import { RedisBus, RedisJobStore } from './store.js';

/** BullMQ priorities run 1 (first) to 2^21; jobwire's run higher first. */
function bullPriority(priority: number): number {
  return Math.min(2_097_151, Math.max(1, Math.round(1_048_576 - priority)));
}

interface Connected {
  store: JobStore;
  /** True when the store's writes and BullMQ's adds run in order on one connection (Redis). */
  ordered: boolean;
  hub: EventHub;
  queue: Queue;
  worker: Worker | undefined;
  queueEvents: QueueEvents | undefined;
  runner: JobRunner | undefined;
  /** Close the connections this backend opened. */
  disconnect(): Promise<void>;
}

/**
 * The distributed backend: jobs queue in BullMQ on Redis, any number of worker processes run
 * them, and any number of API processes submit, list, cancel and stream them — with the same
 * JobTracker API as the in-memory default. Job records and event logs live in Redis next to
 * BullMQ's queue, changed by atomic scripts; events and cancels reach every process by pub/sub.
 *
 * `bullmq` and `ioredis` are optional peer dependencies, loaded only when this backend starts.
 *
 * @example
 * ```ts
 * // API process
 * const tracker = new JobTracker({ plugins, backend: new BullMQBackend({ connection: 'redis://127.0.0.1:6379', queueName: 'media', role: 'producer' }) });
 * // worker process (same plugins registered)
 * const worker = new JobTracker({ plugins, storage, backend: new BullMQBackend({ connection: 'redis://127.0.0.1:6379', queueName: 'media', role: 'worker', concurrency: 4 }) });
 * ```
 */
export class BullMQBackend implements JobBackend {
  readonly #options: CheckedBullMQOptions;
  #host!: BackendHost;
  #ready!: Promise<Connected>;
  #sweeper: NodeJS.Timeout | undefined;
  #closed = false;

  /** @throws JobwireError `INVALID_CONFIG` for bad options. */
  constructor(options: BullMQBackendOptions) {
    this.#options = checkBullMQOptions(options);
  }

  /** What this process does: `producer`, `worker` or `both`. */
  get role(): CheckedBullMQOptions['role'] {
    return this.#options.role;
  }

  /** Resolves once Redis is connected and (for workers) the worker runs; rejects if that fails. */
  ready(): Promise<void> {
    return this.#ready.then(() => undefined);
  }

  start(host: BackendHost): void {
    this.#host = host;
    this.#ready = this.#connect(host);
    this.#ready.catch((error: unknown) => host.logger.error({ err: error }, `jobwire: BullMQ backend failed to start: ${messageOf(error)}`));
    if (Number.isFinite(host.settings.ttlMs)) {
      this.#sweeper = setInterval(() => void this.sweep().catch((error: unknown) => host.logger.warn({ err: error }, `jobwire: sweep failed: ${messageOf(error)}`)), host.settings.sweepIntervalMs);
      this.#sweeper.unref();
    }
  }

  async submit(job: NewJob): Promise<JobSnapshot> {
    const { store, queue, ordered } = await this.#connected();
    const id = createJobId();
    const now = this.#host.now();
    const at = isoTime(now);
    const base: Record<string, unknown> = { id, plugin: job.plugin, input: job.input };
    if (job.tenantId !== undefined) base.tenantId = job.tenantId;
    if (job.workspaceId !== undefined) base.workspaceId = job.workspaceId;
    Object.assign(base, { metadata: job.metadata, priority: job.priority, createdAt: at });
    let baseJson: string;
    try {
      baseJson = JSON.stringify(base).slice(0, -1); // the script appends the live fields and the closing brace
    } catch (cause) {
      throw new JobwireError('INVALID_INPUT', 'The input and metadata must be JSON-serialisable to queue on BullMQ', { cause });
    }
    const ageSeconds = Number.isFinite(this.#host.settings.ttlMs) ? Math.ceil(this.#host.settings.ttlMs / 1000) : undefined;
    // The record script and BullMQ's add go out on the same connection without waiting for each
    // other: Redis runs them in order, so a worker never sees the BullMQ job before its record,
    // and a submit costs one round trip, not two.
    const creating = store.create({
      id,
      baseJson,
      at,
      maxQueued: this.#host.settings.maxQueued,
      tenantId: job.tenantId,
      idempotencyKey: job.idempotencyKey,
      now,
      plugin: job.plugin,
      workspaceId: job.workspaceId,
      timeoutMs: job.timeoutMs ?? this.#host.plugins.getMeta(job.plugin)?.timeoutMs,
    });
    // Without that ordering (PostgreSQL: a pool), the record is written before the job is queued.
    if (!ordered) await creating.catch(() => undefined);
    const adding = queue.add(job.plugin, { id }, {
      jobId: id,
      priority: bullPriority(job.priority),
      removeOnComplete: ageSeconds === undefined ? false : { age: ageSeconds },
      removeOnFail: ageSeconds === undefined ? false : { age: ageSeconds },
    });
    let created: Awaited<typeof creating>;
    try {
      created = await creating;
    } catch (error) {
      void adding.then(() => queue.remove(id)).catch(() => 0); // a worker finds no record and skips it anyway
      throw error;
    }
    if (created.outcome !== 'created') {
      // Refused (full) or an existing job: the BullMQ job has no record; drop it (a worker would skip it).
      void adding.then(() => queue.remove(id)).catch(() => 0);
      if (created.outcome === 'full') throw new JobwireError('QUEUE_FULL', `Queue is full (${this.#host.settings.maxQueued} waiting jobs)`);
      return created.job;
    }
    try {
      await adding;
    } catch (error) {
      await store.remove(id).catch(() => undefined); // nothing half-written: the job never existed
      throw new JobwireError('CLOSED', `Could not queue the job on BullMQ: ${messageOf(error)}`, { cause: error });
    }
    return created.job;
  }

  async get(id: string): Promise<JobSnapshot | undefined> {
    const { store } = await this.#connected();
    return store.get(id, this.#host.now());
  }

  async list(query: BackendListQuery): Promise<JobPage> {
    let beforeOrder: number | undefined;
    if (query.cursor !== undefined) {
      beforeOrder = decodeCursor(query.cursor);
      if (beforeOrder === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const { store } = await this.#connected();
    const page = await store.list({ ...query, beforeOrder, now: this.#host.now() });
    return page.nextOrder === undefined ? { jobs: page.jobs } : { jobs: page.jobs, nextCursor: encodeCursor(page.nextOrder) };
  }

  async cancel(id: string, reason: string, code: Extract<JobwireErrorCode, 'CANCELLED' | 'CLOSED'>): Promise<JobSnapshot> {
    const { store, queue } = await this.#connected();
    const at = this.#host.now();
    const end = endStamps(at, this.#host.settings.ttlMs);
    const fields = { error: encodeJson({ code, message: reason }, 'error'), ...end.fields };
    const result = await store.change(id, ['queued', 'running'], 'cancelled', 'cancelled', isoTime(at), fields, end.expiresAtMs);
    if (result.outcome === 'missing' || (result.outcome === 'refused' && result.expiresAtMs !== undefined && result.expiresAtMs <= at)) {
      throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
    }
    if (result.outcome === 'ok') {
      // Whichever worker runs it aborts its signal; a job still waiting leaves BullMQ's queue.
      await store.publishCancel(id, code, reason);
      await queue.remove(id).catch(() => 0);
    }
    return result.job;
  }

  async remove(id: string): Promise<boolean> {
    const { store, hub, queue } = await this.#connected();
    const job = await store.get(id, this.#host.now());
    if (!job) return false;
    if (!isTerminalStatus(job.status)) await this.cancel(id, 'Job removed', 'CANCELLED').catch(() => undefined);
    const announced = hub.removed(id);
    const removed = await store.remove(id);
    await queue.remove(id).catch(() => 0);
    if (removed) await announced; // this process's listeners heard of it before remove() resolves
    return removed !== undefined;
  }

  events(id: string, options: BackendEventsOptions): AsyncIterableIterator<JobEvent> {
    if (this.#closed) return EventStream.failed(new JobwireError('CLOSED', 'The BullMQ backend is closed'));
    // The iterator exists at once; it starts reading when Redis is ready (a failed start fails it).
    let inner: AsyncIterableIterator<JobEvent> | undefined;
    const outer = new EventStream<JobEvent>(
      { build: (event) => event, isProgress: (event) => event.type === 'progress', isTerminal: () => false, onClose: () => void inner?.return?.() },
      options.signal,
    );
    if (outer.closed) return outer;
    void this.#ready.then(
      ({ hub }) => {
        if (outer.closed) return;
        inner = hub.events(id, options.afterSeq, undefined);
        void pump(inner, outer);
      },
      (error: unknown) => outer.fail(error),
    );
    return outer;
  }

  async stats(): Promise<JobCounts> {
    const { store } = await this.#connected();
    await this.sweep();
    return store.stats();
  }

  /**
   * Remove finished jobs past their TTL (any process may run it; each job goes once). Runs every
   * `sweepIntervalMs` by itself. Costs O(expired). Resolves with how many were removed.
   */
  async sweep(): Promise<number> {
    const { store } = await this.#connected();
    let total = 0;
    for (;;) {
      const ids = await store.sweep(this.#host.now());
      total += ids.length;
      if (ids.length < 1_000) return total;
    }
  }

  async close(timeoutMs: number): Promise<void> {
    if (this.#sweeper) clearInterval(this.#sweeper);
    let connected: Connected;
    try {
      connected = await this.#ready;
    } catch {
      this.#closed = true;
      return;
    }
    const { worker, runner } = connected;
    if (worker && runner) {
      await worker.pause(true); // take no new jobs
      await settleWithin(runner.runs, timeoutMs);
      await Promise.all(runner.active.map((id) => runner.stop(id, 'cancelled', new JobwireError('CLOSED', `Worker closed; the job did not finish within ${timeoutMs} ms`)).catch(() => undefined)));
      await runner.flush();
      await worker.close(true);
    }
    this.#closed = true;
    await connected.hub.close();
    await connected.queueEvents?.close();
    await connected.queue.close();
    await connected.disconnect();
  }

  async #connected(): Promise<Connected> {
    if (this.#closed) throw new JobwireError('CLOSED', 'The BullMQ backend is closed');
    return this.#ready;
  }

  async #connect(host: BackendHost): Promise<Connected> {
    const options = this.#options;
    const { bullmq, Redis } = await loadDrivers(options.database);
    const warn = (what: string) => (error: Error) => host.logger.warn({ err: error }, `jobwire: ${what}: ${error.message}`);
    let store: JobStore;
    let bus: Bus;
    let bullOptions: { connection: never; prefix: string };
    let backendFactory: unknown;
    const closers: (() => Promise<unknown>)[] = [];
    let makeEventsConnection: () => unknown;
    if (options.database === 'postgres') {
      const pg = await importOptional<typeof import('pg')>('pg', 'bullmq pg', 'jobwire/bullmq with PostgreSQL');
      const connectionString = options.connection as string;
      const pool = new pg.Pool({ connectionString, max: 10 });
      pool.on('error', warn('PostgreSQL pool error'));
      const pgStore = new PostgresJobStore(pool, options.prefix, options.queueName);
      await pgStore.migrate();
      const listener = new pg.Client({ connectionString });
      listener.on('error', warn('PostgreSQL listener error'));
      store = pgStore;
      bus = new PostgresBus(listener, pgStore);
      closers.push(() => pool.end());
      bullOptions = { connection: { connectionString, migrate: true } as never, prefix: options.prefix };
      backendFactory = bullmq.createPostgresBackend;
      makeEventsConnection = () => bullOptions.connection;
    } else {
      const make = (extra: object): import('ioredis').Redis => {
        const client = typeof options.connection === 'string' ? new Redis(options.connection, extra) : new Redis({ ...options.connection, ...extra });
        client.on('error', warn('Redis connection error'));
        closers.push(() => client.quit().catch(() => undefined));
        return client;
      };
      const bullConnection = make({ maxRetriesPerRequest: null });
      const redisStore = new RedisJobStore(bullConnection, options.prefix, options.queueName); // BullMQ's queue connection: see submit()
      store = redisStore;
      bus = new RedisBus(make({}), redisStore);
      bullOptions = { connection: bullConnection as never, prefix: options.prefix };
      backendFactory = undefined;
      makeEventsConnection = () => make({ maxRetriesPerRequest: null });
    }
    // BullMQ's classes take the datastore factory as their last argument (undefined: Redis).
    const withBackend = <T>(make: (factory: never) => T): T => make(backendFactory as never);
    let runner: JobRunner | undefined;
    const hub = new EventHub(bus, store, host, (message) => runner?.cancel(message));
    await hub.start();
    closers.unshift(() => bus.close());
    const queue = withBackend((factory) => new bullmq.Queue(options.queueName, bullOptions, factory));
    queue.on('error', warn('BullMQ queue error'));
    let worker: Worker | undefined;
    let queueEvents: QueueEvents | undefined;
    if (options.role !== 'producer') {
      runner = new JobRunner(store, host);
      const jobRunner = runner;
      worker = withBackend(
        (factory) =>
          new bullmq.Worker(
            options.queueName,
            (job, _token, signal) => jobRunner.process(job.id ?? '', job.name, job.attemptsStarted, signal),
            {
              ...bullOptions,
              concurrency: options.concurrency ?? host.settings.concurrency,
              lockDuration: options.lockDurationMs,
              stalledInterval: options.stalledIntervalMs,
              maxStalledCount: options.maxStalledCount,
            },
            factory,
          ),
      );
      worker.on('error', warn('BullMQ worker error'));
      // The runner never throws, so BullMQ fails a job only when it gives up on it — after its
      // workers kept dying (stalled more than maxStalledCount). QueueEvents hears it wherever it happened.
      queueEvents = withBackend((factory) => new bullmq.QueueEvents(options.queueName, { connection: makeEventsConnection() as never, prefix: options.prefix }, factory));
      queueEvents.on('error', warn('BullMQ events error'));
      queueEvents.on('failed', ({ jobId, failedReason }) => {
        void jobRunner
          .stop(jobId, 'failed', new JobwireError('PLUGIN_FAILED', `The job was given up: its worker stopped ${options.maxStalledCount + 1} times (BullMQ: ${failedReason})`))
          .catch((cause: unknown) => host.logger.error({ jobId, err: cause }, 'jobwire: could not fail a job BullMQ gave up on'));
      });
      await Promise.all([worker.waitUntilReady(), queueEvents.waitUntilReady()]);
    }
    return {
      store,
      ordered: options.database === 'redis',
      hub,
      queue,
      worker,
      queueEvents,
      runner,
      disconnect: async () => {
        for (const close of closers) await close().catch(() => undefined);
      },
    };
  }
}

/** Forward an inner iterator into an outer stream (the outer one exists before Redis is ready). */
async function pump(inner: AsyncIterableIterator<JobEvent>, outer: EventStream<JobEvent>): Promise<void> {
  try {
    for await (const event of inner) {
      if (outer.closed) break;
      outer.push(event);
    }
    outer.end();
  } catch (error) {
    outer.fail(error);
  }
}
