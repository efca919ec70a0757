import type { Redis } from 'ioredis';
import type { JobEvent, JobSnapshot, JobStatus } from '../job.js';
import type { JobCounts } from '../tracker/types.js';
import { jobCounts } from '../tracker/job-counts.js';
import { idempotencyKeyOf, type Bus, type BusHandlers, type ChangeFields, type ChangeResult, type JobStore, type NewRecord, type StoreListQuery, type StoredJob } from './job-store.js';
import { CHANGE, LIST, REMOVE, START, SUBMIT, SWEEP } from './scripts.js';

type Script = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<'jwSubmit' | 'jwChange' | 'jwStart' | 'jwRemove' | 'jwSweep' | 'jwList', Script>;

/** jobwire's own records in Redis (BullMQ holds the queue): one client, atomic Lua scripts. */
export class RedisJobStore implements JobStore {
  readonly base: string;
  readonly channel: string;
  readonly cancelChannel: string;
  readonly #redis: Redis;
  readonly #scripts: Scripts;

  constructor(redis: Redis, prefix: string, queueName: string) {
    this.#redis = redis;
    this.base = `${prefix}:${queueName}:jw:`;
    this.channel = `${this.base}events`;
    this.cancelChannel = `${this.base}cancel`;
    const scripts = { jwSubmit: SUBMIT, jwChange: CHANGE, jwStart: START, jwRemove: REMOVE, jwSweep: SWEEP, jwList: LIST };
    for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.#scripts = redis as unknown as Scripts;
  }

  /** Create a job; 'existing' for a live job with the same idempotency key, 'full' past maxQueued. */
  async create(args: NewRecord): Promise<{ outcome: 'created' | 'existing'; job: JobSnapshot } | { outcome: 'full' }> {
    const tenantKey = args.tenantId === undefined ? '' : `${this.base}index:t:${args.tenantId}`;
    const idemKey = args.idempotencyKey === undefined ? '' : `${this.base}idem:${idempotencyKeyOf(args.tenantId, args.idempotencyKey)}`;
    const reply = (await this.#scripts.jwSubmit(
      this.base,
      args.id,
      args.baseJson,
      args.at,
      Number.isFinite(args.maxQueued) ? args.maxQueued : 'inf',
      tenantKey,
      idemKey,
      args.now,
      args.plugin,
      args.workspaceId ?? '',
      args.timeoutMs ?? '',
    )) as [string, string?];
    if (reply[0] === 'full') return { outcome: 'full' };
    return { outcome: reply[0] as 'created' | 'existing', job: JSON.parse(reply[1] as string) as JobSnapshot };
  }

  /** Apply a change if the job's status is one of `from`; append and publish the event. */
  async change(id: string, from: readonly JobStatus[], to: JobStatus | undefined, eventType: JobEvent['type'], at: string, fields: ChangeFields = {}, expiresAtMs?: number): Promise<ChangeResult> {
    const pairs: string[] = [];
    for (const [name, value] of Object.entries(fields)) if (value !== undefined) pairs.push(name, value);
    const reply = (await this.#scripts.jwChange(this.base, id, from.join(','), to ?? '', eventType, at, expiresAtMs === undefined ? '' : expiresAtMs, ...pairs)) as string[];
    if (reply[0] === 'missing') return { outcome: 'missing' };
    const job = JSON.parse(reply[1] as string) as JobSnapshot;
    if (reply[0] === 'ok') return { outcome: 'ok', job };
    return { outcome: 'refused', job, status: reply[2] as JobStatus, expiresAtMs: reply[3] ? Number(reply[3]) : undefined };
  }

  /** The job's current snapshot, unless it is missing or past its expiry. */
  async get(id: string, now: number): Promise<JobSnapshot | undefined> {
    const [snap, expiresAtMs] = await this.#redis.hmget(`${this.base}job:${id}`, 'snap', 'expiresAtMs');
    if (snap === null || (expiresAtMs !== null && Number(expiresAtMs) <= now)) return undefined;
    return JSON.parse(snap) as JobSnapshot;
  }

  /**
   * A worker takes the job (queued → running, after a requeue if a dead worker held it): what it
   * needs to run it, or undefined when it is gone, cancelled or finished.
   */
  async start(id: string, at: string, requeueMessage: string): Promise<StoredJob | undefined> {
    const reply = (await this.#scripts.jwStart(this.base, id, at, JSON.stringify(at), JSON.stringify(requeueMessage))) as [string, string] | null;
    if (!reply) return undefined;
    return { job: JSON.parse(`${reply[0]}}`) as StoredJob['job'], timeoutMs: reply[1] === '' ? undefined : Number(reply[1]) };
  }

  /** The job's event log (consecutive progress coalesced), oldest first; undefined when the job is gone. */
  async log(id: string, now: number): Promise<JobEvent[] | undefined> {
    const [[, exists], [, expiresAtMs], [, entries]] = (await this.#redis
      .multi()
      .exists(`${this.base}job:${id}`)
      .hget(`${this.base}job:${id}`, 'expiresAtMs')
      .lrange(`${this.base}log:${id}`, 0, -1)
      .exec()) as [[null, number], [null, string | null], [null, string[]]];
    if (exists === 0 || (expiresAtMs !== null && Number(expiresAtMs) <= now)) return undefined;
    return entries.map((entry) => JSON.parse(entry) as JobEvent);
  }

  /** Delete a job; its last snapshot, or undefined when there was none. */
  async remove(id: string): Promise<JobSnapshot | undefined> {
    const snap = (await this.#scripts.jwRemove(this.base, id)) as string | null;
    return snap ? (JSON.parse(snap) as JobSnapshot) : undefined;
  }

  /** Delete jobs past their expiry, at most `limit` per call; their ids. */
  async sweep(now: number, limit = 1_000): Promise<string[]> {
    return (await this.#scripts.jwSweep(this.base, now, limit)) as string[];
  }

  /** One page of jobs, newest first, strictly below `beforeOrder`. */
  async list(args: StoreListQuery): Promise<{ jobs: JobSnapshot[]; nextOrder: number | undefined }> {
    const index = args.tenantId === undefined ? `${this.base}index` : `${this.base}index:t:${args.tenantId}`;
    const [snaps, next, state] = (await this.#scripts.jwList(
      this.base,
      index,
      args.beforeOrder === undefined ? '+inf' : args.beforeOrder,
      args.limit,
      args.now,
      args.statuses ? [...args.statuses].join(',') : '',
      args.plugin ?? '',
      args.workspaceId ?? '',
      5_000,
    )) as [string[], string, string];
    return { jobs: snaps.map((snap) => JSON.parse(snap) as JobSnapshot), nextOrder: state === 'more' && next !== '' ? Number(next) : undefined };
  }

  /** Counts by status. */
  async stats(): Promise<JobCounts> {
    const raw = await this.#redis.hgetall(`${this.base}counts`);
    return jobCounts((status) => Math.max(0, Number(raw[status] ?? 0)));
  }

  /** Tell every worker to abort a job's signal. */
  async publishCancel(id: string, code: 'CANCELLED' | 'CLOSED', reason: string): Promise<void> {
    await this.#redis.publish(this.cancelChannel, JSON.stringify({ id, code, reason }));
  }
}

/** Redis pub/sub: one subscriber connection per process; ioredis re-subscribes after a reconnect. */
export class RedisBus implements Bus {
  readonly #sub: Redis;
  readonly #channel: string;
  readonly #cancelChannel: string;

  constructor(sub: Redis, store: RedisJobStore) {
    this.#sub = sub;
    this.#channel = store.channel;
    this.#cancelChannel = store.cancelChannel;
  }

  async start(handlers: BusHandlers): Promise<void> {
    let subscribed = false;
    this.#sub.on('message', (channel: string, message: string) => (channel === this.#cancelChannel ? handlers.cancel(message) : handlers.event(message)));
    this.#sub.on('ready', () => {
      if (subscribed) handlers.reconnected();
    });
    await this.#sub.subscribe(this.#channel, this.#cancelChannel);
    subscribed = true;
  }

  async close(): Promise<void> {
    await this.#sub.quit().catch(() => undefined);
  }
}
