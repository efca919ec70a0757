import { JobwireError } from '../errors.js';

/**
 * A Redis Cluster: some of its nodes (ioredis finds the rest) and ioredis `Cluster` options. On a
 * cluster, `prefix` must hold a hash tag (`{…}`), as BullMQ asks: every key of the deployment's
 * BullMQ queues, and jobwire's own, then sit in one slot. Give each deployment its own tag to
 * spread deployments over the nodes.
 * @example
 * ```ts
 * new BullMQBackend({ connection: { cluster: ['redis://10.0.0.1:6379', 'redis://10.0.0.2:6379'] }, queueName: 'media', prefix: '{media}' });
 * ```
 */
export interface BullMQClusterConnection {
  /** Seed nodes: `redis://host:port` URLs or `{ host, port }`. */
  cluster: readonly (string | { host: string; port: number })[];
  /**
   * ioredis `Cluster` options; `redisOptions` (password, TLS…) apply to each node's connection.
   * jobwire sets `redisOptions.maxRetriesPerRequest` itself where BullMQ needs it.
   */
  clusterOptions?: {
    redisOptions?: { username?: string; password?: string; tls?: object; [option: string]: unknown };
    [option: string]: unknown;
  };
}

/**
 * Where the queue lives: a `redis://` (or `rediss://`) URL or ioredis connection options for Redis,
 * a {@link BullMQClusterConnection} for a Redis Cluster, or a `postgres://` (or `postgresql://`)
 * URL for PostgreSQL (BullMQ's PostgreSQL backend; needs `pg`).
 */
export type BullMQConnection =
  | string
  | BullMQClusterConnection
  | {
      host?: string;
      port?: number;
      username?: string;
      password?: string;
      db?: number;
      /** TLS options as node's `tls.connect` takes them (an empty object turns TLS on). */
      tls?: object;
      [option: string]: unknown;
    };

/** Whether `connection` names a Redis Cluster. */
export function isClusterConnection(connection: BullMQConnection): connection is BullMQClusterConnection {
  return typeof connection === 'object' && connection !== null && 'cluster' in connection;
}

/** What a process does with the queue. */
export type BullMQRole = 'producer' | 'worker' | 'both';

/** Options of {@link BullMQBackend}. */
export interface BullMQBackendOptions {
  /** Redis or PostgreSQL to use (BullMQ's queue and jobwire's job records live there). */
  connection: BullMQConnection;
  /** The BullMQ queue name; every process of one deployment uses the same. */
  queueName: string;
  /**
   * `producer`: submits, lists, cancels and streams, runs nothing. `worker`: runs plugins.
   * `both`: one process doing both (handy in development). @default 'both'
   */
  role?: BullMQRole;
  /** Jobs one worker process runs at once. @default the tracker's `concurrency` */
  concurrency?: number;
  /**
   * Redis key prefix (BullMQ's `prefix`): letters, digits, `.`, `_`, `-`, and at most one hash tag
   * `{…}` (needed on a Redis Cluster, e.g. `'{media}'`). @default 'jobwire'
   */
  prefix?: string;
  /**
   * BullMQ's stalled-job settings: a worker that stops renewing its lock for `lockDurationMs`
   * (crashed, killed, event loop blocked) loses the job; it is run again up to `maxStalledCount`
   * times, then failed. @default { lockDurationMs: 30_000, stalledIntervalMs: 30_000, maxStalledCount: 1 }
   */
  stalled?: { lockDurationMs?: number; stalledIntervalMs?: number; maxStalledCount?: number };
  /**
   * How often each worker process checks a page of `queued` jobs against BullMQ: a job whose BullMQ
   * job was removed with BullMQ's own tools (`clean`, `obliterate`, `drain`, which do not name the
   * jobs they remove) is cancelled once it has been missing for this long (at least 5 s). Each
   * round also sets every capped plugin's queue cap again (an `obliterate` deletes it). @default 30_000
   */
  reconcileIntervalMs?: number;
}

/** Checked options, with defaults. */
export interface CheckedBullMQOptions {
  connection: BullMQConnection;
  /** Which database `connection` points at. */
  database: 'redis' | 'postgres';
  queueName: string;
  role: BullMQRole;
  concurrency: number | undefined;
  prefix: string;
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  reconcileIntervalMs: number;
}

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;
/** A name, or one with one non-empty hash tag in it (Redis hashes what is inside the first `{…}`). */
const PREFIX = /^(?=.{1,100}$)(?:[A-Za-z0-9][A-Za-z0-9._-]*(?:\{[A-Za-z0-9._-]+\}[A-Za-z0-9._-]*)?|\{[A-Za-z0-9._-]+\}[A-Za-z0-9._-]*)$/;

/** Check a cluster connection's seed nodes. */
function checkCluster(connection: BullMQClusterConnection, prefix: string): void {
  const { cluster, clusterOptions } = connection;
  const node = (entry: unknown): boolean =>
    (typeof entry === 'string' && /^rediss?:\/\//i.test(entry)) ||
    (typeof entry === 'object' && entry !== null && typeof (entry as { host?: unknown }).host === 'string' && Number.isSafeInteger((entry as { port?: unknown }).port));
  if (!Array.isArray(cluster) || cluster.length === 0 || !cluster.every(node)) {
    throw new JobwireError('INVALID_CONFIG', '`connection.cluster` must list seed nodes: redis:// URLs or { host, port }');
  }
  if (clusterOptions !== undefined && (typeof clusterOptions !== 'object' || clusterOptions === null)) throw new JobwireError('INVALID_CONFIG', '`connection.clusterOptions` must be ioredis Cluster options');
  if (!prefix.includes('{')) {
    throw new JobwireError('INVALID_CONFIG', "On a Redis Cluster, `prefix` must hold a hash tag so that a queue's keys share one slot, e.g. prefix: '{jobwire}'");
  }
}

function positiveInteger(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new JobwireError('INVALID_CONFIG', `\`${name}\` must be a positive integer`);
  return value as number;
}

/** Check the options: a typed `INVALID_CONFIG` error names the first bad one. */
export function checkBullMQOptions(options: BullMQBackendOptions): CheckedBullMQOptions {
  if (typeof options !== 'object' || options === null) throw new JobwireError('INVALID_CONFIG', 'BullMQBackend needs options: { connection, queueName }');
  const { connection, queueName, role = 'both', prefix = 'jobwire', stalled = {} } = options;
  if (typeof connection !== 'string' && (typeof connection !== 'object' || connection === null)) {
    throw new JobwireError('INVALID_CONFIG', '`connection` must be a redis:// URL or ioredis options');
  }
  if (typeof queueName !== 'string' || !NAME.test(queueName)) throw new JobwireError('INVALID_CONFIG', '`queueName` must be 1-100 letters, digits, ".", "_" or "-"');
  if (typeof prefix !== 'string' || !PREFIX.test(prefix)) {
    throw new JobwireError('INVALID_CONFIG', '`prefix` must be 1-100 letters, digits, ".", "_" or "-", with at most one hash tag such as "{media}"');
  }
  if (isClusterConnection(connection)) checkCluster(connection, prefix);
  if (role !== 'producer' && role !== 'worker' && role !== 'both') throw new JobwireError('INVALID_CONFIG', "`role` must be 'producer', 'worker' or 'both'");
  return {
    connection,
    database: typeof connection === 'string' && /^postgres(?:ql)?:\/\//i.test(connection) ? 'postgres' : 'redis',
    queueName,
    role,
    prefix,
    concurrency: options.concurrency === undefined ? undefined : positiveInteger(options.concurrency, 'concurrency', 1),
    lockDurationMs: positiveInteger(stalled.lockDurationMs, 'stalled.lockDurationMs', 30_000),
    stalledIntervalMs: positiveInteger(stalled.stalledIntervalMs, 'stalled.stalledIntervalMs', 30_000),
    maxStalledCount: positiveInteger(stalled.maxStalledCount, 'stalled.maxStalledCount', 1),
    reconcileIntervalMs: positiveInteger(options.reconcileIntervalMs, 'reconcileIntervalMs', 30_000),
  };
}
