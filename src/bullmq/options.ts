import { JobwireError } from '../errors.js';

/**
 * Where the queue lives: a `redis://` (or `rediss://`) URL or ioredis connection options for Redis,
 * or a `postgres://` (or `postgresql://`) URL for PostgreSQL (BullMQ's PostgreSQL backend; needs `pg`).
 */
export type BullMQConnection =
  | string
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
  /** Redis key prefix (BullMQ's `prefix`). @default 'jobwire' */
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
   * jobs they remove) is cancelled, seen missing twice in a row. @default 30_000
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
  if (typeof prefix !== 'string' || !NAME.test(prefix)) throw new JobwireError('INVALID_CONFIG', '`prefix` must be 1-100 letters, digits, ".", "_" or "-"');
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
