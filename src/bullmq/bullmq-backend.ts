import type { BackendDrivers, BackendHost, JobBackend } from '../backend/job-backend.js';
import type { JobBus } from '../backend/job-bus.js';
import type { JobStore } from '../backend/job-store.js';
import { JobwireError, messageOf } from '../errors.js';
import type { JobStatus } from '../job.js';
import { logDebug } from '../logger.js';
import { closeRedis } from './close-redis.js';
import { importOptional } from '../optional.js';
import { BullMQDispatcher } from './bullmq-dispatcher.js';
import { BullMQScheduler, type ExclusiveRunner } from './bullmq-scheduler.js';
import { loadDrivers } from './load.js';
import { checkBullMQOptions, isClusterConnection, type BullMQBackendOptions, type CheckedBullMQOptions } from './options.js';
import { PostgresBus } from './postgres-bus.js';
import { queueEntryInsert, type QueueEntryInsert } from './postgres-entry.js';
import { PostgresJobStore } from './postgres-store.js';
import { RedisBus } from './redis-bus.js';
import { RedisJobStore, type RedisClient } from './redis-store.js';

/** The statuses the reconciler reads. */
const QUEUED: ReadonlySet<JobStatus> = new Set(['queued']);

/** What an open backend holds. */
interface Opened {
  store: JobStore & { expire(now: number, limit: number): Promise<string[]> };
  now: () => number;
}

/**
 * The distributed backend: jobs queue in BullMQ on Redis or PostgreSQL, any number of worker
 * processes run them, and any number of API processes submit, list, cancel and stream them — with
 * the same JobTracker API as the in-memory default. Job records and event logs live next to
 * BullMQ's queue, changed by atomic scripts (Redis) or statements (PostgreSQL); events and cancels
 * reach every process by pub/sub (Redis) or LISTEN/NOTIFY (PostgreSQL). Delayed jobs and retries
 * waiting for their backoff wait in BullMQ's delayed set, and schedules are BullMQ job schedulers:
 * both live in the database, so they outlast any process.
 *
 * `bullmq` and `ioredis` (or `pg`) are optional peer dependencies, loaded only when this backend opens.
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
  #opened: Promise<Opened> | undefined;
  #markReady!: () => void;
  #markFailed!: (error: unknown) => void;
  readonly #ready = new Promise<void>((resolve, reject) => {
    this.#markReady = resolve;
    this.#markFailed = reject;
  });

  /** @throws JobwireError `INVALID_CONFIG` for bad options. */
  constructor(options: BullMQBackendOptions) {
    this.#options = checkBullMQOptions(options);
    this.#ready.catch(() => undefined); // reported by ready() and by the tracker's calls
  }

  /** What this process does: `producer`, `worker` or `both`. */
  get role(): CheckedBullMQOptions['role'] {
    return this.#options.role;
  }

  /**
   * Resolves once the tracker using this backend is connected and (for workers) takes jobs;
   * rejects if that fails. Until a tracker opens the backend, it waits.
   */
  ready(): Promise<void> {
    return this.#ready;
  }

  /** Remove finished jobs past their TTL now (every tracker also does it every `sweepIntervalMs`); how many. */
  async sweep(): Promise<number> {
    if (!this.#opened) throw new JobwireError('INVALID_REQUEST', 'The backend is not open yet: give it to a JobTracker first');
    const { store, now } = await this.#opened;
    let total = 0;
    for (;;) {
      const ids = await store.expire(now(), 1_000);
      total += ids.length;
      if (ids.length < 1_000) return total;
    }
  }

  open(host: BackendHost): Promise<BackendDrivers> {
    if (this.#opened) return Promise.reject(new JobwireError('INVALID_CONFIG', 'A BullMQBackend serves one tracker: create one per tracker'));
    const opening = this.#connect(host);
    this.#opened = opening.then(({ store }) => ({ store, now: host.now }));
    opening.then(
      () => {
        if (this.#options.role === 'producer') this.#markReady();
      },
      (error: unknown) => this.#markFailed(error),
    );
    return opening;
  }

  async #connect(host: BackendHost): Promise<BackendDrivers & { store: Opened['store'] }> {
    const options = this.#options;
    const { bullmq, Redis, Cluster } = await loadDrivers(options.database);
    const warn = (what: string) => (error: Error) => host.logger.warn({ err: error }, `jobwire: ${what}: ${error.message}`);
    const closers: (() => Promise<unknown>)[] = [];
    /** What is open so far: a failed open closes it again. */
    const opened: { dispatcher?: BullMQDispatcher } = {};
    const closeAll = async (): Promise<void> => {
      await opened.dispatcher?.close().catch((error: unknown) => host.logger.warn({ err: error }, `jobwire: closing BullMQ failed: ${messageOf(error)}`));
      for (const close of closers) await close().catch(logDebug(host.logger, 'closing a connection failed'));
    };
    try {
      let store: Opened['store'];
      let bus: JobBus;
      let bullOptions: { connection: never; prefix: string };
      let backendFactory: unknown;
      let eventsConnection: () => unknown;
      let exclusive: ExclusiveRunner | undefined;
      let pgStore: PostgresJobStore | undefined;
      let pool: import('pg').Pool | undefined;
      if (options.database === 'postgres') {
        const pg = await importOptional<typeof import('pg')>('pg', 'bullmq pg', 'jobwire/bullmq with PostgreSQL');
        const connectionString = options.connection as string;
        pool = new pg.Pool({ connectionString, max: 10, connectionTimeoutMillis: 10_000 });
        pool.on('error', warn('PostgreSQL pool error'));
        const poolOpened = pool;
        closers.push(() => poolOpened.end());
        pgStore = new PostgresJobStore(pool, options.prefix, options.queueName, host.logger);
        await pgStore.migrate();
        store = pgStore;
        bus = new PostgresBus((config) => new pg.Client(config), connectionString, pgStore, host.logger);
        bullOptions = { connection: { connectionString, migrate: true } as never, prefix: options.prefix };
        backendFactory = bullmq.createPostgresBackend;
        eventsConnection = () => bullOptions.connection;
        // BullMQ's PostgreSQL upsert of a job scheduler is not atomic: upserts of a key take turns.
        const locks = pgStore;
        exclusive = (key, work) => locks.exclusive(`schedule:${key}`, work);
      } else {
        const { connection } = options;
        const cluster = isClusterConnection(connection);
        const make = (extra: object, clusterExtra: object = {}): RedisClient => {
          const client = cluster
            ? new Cluster([...connection.cluster], { ...connection.clusterOptions, ...clusterExtra, redisOptions: { ...connection.clusterOptions?.redisOptions, ...extra } })
            : typeof connection === 'string'
              ? new Redis(connection, extra)
              : new Redis({ ...connection, ...extra });
          client.on('error', warn('Redis connection error'));
          closers.push(() => closeRedis(client));
          return client;
        };
        const bullConnection = make({ maxRetriesPerRequest: null });
        // The store shares BullMQ's queue connection: a record and its BullMQ job go out in order (see `ordered`).
        const redisStore = new RedisJobStore(bullConnection, options.prefix, options.queueName, { sharded: cluster });
        store = redisStore;
        bus = new RedisBus(make({}, { shardedSubscribers: true }), redisStore, host.logger);
        bullOptions = { connection: bullConnection as never, prefix: options.prefix };
        backendFactory = undefined;
        eventsConnection = () => make({ maxRetriesPerRequest: null });
      }
      const dispatcher = (opened.dispatcher = new BullMQDispatcher({
        bullmq,
        queueName: options.queueName,
        bullOptions,
        backendFactory,
        eventsConnection,
        plugins: host.plugins,
        logger: host.logger,
        concurrency: options.concurrency ?? host.settings.concurrency,
        ttlMs: host.settings.ttlMs,
        stalled: { lockDurationMs: options.lockDurationMs, stalledIntervalMs: options.stalledIntervalMs, maxStalledCount: options.maxStalledCount },
        ordered: options.database === 'redis',
        jsonb: options.database === 'postgres',
        onStarted: () => this.#markReady(),
        listQueued: (cursor, limit) => store.list({ tenantId: undefined, workspaceId: undefined, plugin: undefined, statuses: QUEUED, limit, cursor, now: host.now() }),
        reconcileIntervalMs: options.reconcileIntervalMs,
        addedWithRecord: (record) => entries?.added.has(record) ?? false,
      }));
      let entries: QueueEntryInsert | undefined;
      if (pgStore && pool) {
        // BullMQ's schema is migrated once its first queue is ready; a submit then adds the BullMQ job
        // in the statement that creates the record (see PostgresJobStore's create).
        await dispatcher.mainQueue().waitUntilReady();
        entries = await queueEntryInsert(pool, (record) => dispatcher.addJobArgs(record));
        if (entries) pgStore.addQueueEntries(entries);
        else host.logger.warn({}, "jobwire: this BullMQ's PostgreSQL schema has no add_job function of the expected arguments: a submit adds its BullMQ job in a statement of its own");
      }
      return {
        store,
        bus,
        dispatcher,
        scheduler: new BullMQScheduler(dispatcher, host.logger, exclusive),
        runs: options.role !== 'producer',
        close: closeAll,
      };
    } catch (error) {
      await closeAll();
      throw error;
    }
  }
}
