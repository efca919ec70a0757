import type { Redis } from 'ioredis';
import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, CreateLimits, CreateResult, JobChange, JobStore, RecordPage, StoreListQuery } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { idempotencyScope } from '../engine/idempotency.js';
import { eventOf } from '../engine/job-json.js';
import { jobCounts } from '../engine/job-counts.js';
import { parseLoggedEvent } from '../engine/logged-events.js';
import { JobwireError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../ordered-index.js';
import type { JobCounts } from '../tracker/types.js';
import { parseRecord } from './record-json.js';
import { COMMIT, CREATE, EXPIRE, LIST, REMOVE } from './redis-scripts.js';

type Script = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<'jwCreate' | 'jwCommit' | 'jwRemove' | 'jwExpire' | 'jwList', Script>;

/**
 * jobwire's job records and event logs in Redis, next to BullMQ's queue, one atomic Lua script per
 * change (see redis-scripts.ts). Events and removals are published on `<base>events` by the same
 * scripts, so a subscriber never hears of a change before it is written.
 */
export class RedisJobStore implements JobStore {
  /** Key prefix of this store's keys. */
  readonly base: string;
  /** Where events (`e…`) and removals (`r…`) are published. */
  readonly channel: string;
  readonly #redis: Redis;
  readonly #scripts: Scripts;

  constructor(redis: Redis, prefix: string, queueName: string) {
    this.#redis = redis;
    this.base = `${prefix}:${queueName}:jw:`;
    this.channel = `${this.base}events`;
    const scripts = { jwCreate: CREATE, jwCommit: COMMIT, jwRemove: REMOVE, jwExpire: EXPIRE, jwList: LIST };
    for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { numberOfKeys: 0, lua });
    this.#scripts = redis as unknown as Scripts;
  }

  async create(record: JobRecord, at: number, limits: CreateLimits): Promise<CreateResult> {
    const tenantKey = record.tenantId === undefined ? '' : `${this.base}index:t:${record.tenantId}`;
    const idemKey = record.idempotencyKey === undefined ? '' : `${this.base}idem:${idempotencyScope(record.tenantId, record.idempotencyKey)}`;
    const reply = (await this.#scripts.jwCreate(
      this.base,
      record.id,
      JSON.stringify(record),
      JSON.stringify(eventOf(record, at)),
      Number.isFinite(limits.maxQueued) ? limits.maxQueued : 'inf',
      tenantKey,
      idemKey,
      limits.now,
      record.plugin,
      record.workspaceId ?? '',
      record.runAt ?? '',
    )) as [string, string?];
    if (reply[0] === 'existing') return { outcome: 'existing', record: parseRecord(reply[1]) };
    return { outcome: reply[0] === 'full' ? 'full' : 'created' };
  }

  async get(id: string, now: number): Promise<JobRecord | undefined> {
    const [rec, expiresAtMs] = await this.#redis.hmget(`${this.base}job:${id}`, 'rec', 'expiresAtMs');
    if (rec === null || rec === undefined || (expiresAtMs !== null && expiresAtMs !== undefined && Number(expiresAtMs) <= now)) return undefined;
    return parseRecord(rec);
  }

  async commit(change: JobChange): Promise<CommitResult> {
    const { record } = change;
    const reply = (await this.#scripts.jwCommit(
      this.base,
      record.id,
      String(record.seq - 1),
      JSON.stringify(record),
      JSON.stringify(eventOf(record, change.at)),
      change.replacesLast ? '1' : '0',
      record.status,
      record.expiresAt === undefined ? '' : record.expiresAt,
      record.runAt ?? '',
    )) as [string, string?];
    if (reply[0] === 'ok') return { ok: true };
    return { ok: false, current: reply[0] === 'conflict' ? parseRecord(reply[1]) : undefined };
  }

  async log(id: string, now: number): Promise<LoggedEvent[] | undefined> {
    const [[, exists], [, expiresAtMs], [, entries]] = (await this.#redis
      .multi()
      .exists(`${this.base}job:${id}`)
      .hget(`${this.base}job:${id}`, 'expiresAtMs')
      .lrange(`${this.base}log:${id}`, 0, -1)
      .exec()) as [[null, number], [null, string | null], [null, string[]]];
    if (exists === 0 || (expiresAtMs !== null && Number(expiresAtMs) <= now)) return undefined;
    return entries.map(parseLoggedEvent);
  }

  async list(query: StoreListQuery): Promise<RecordPage> {
    let beforeOrder: number | undefined;
    if (query.cursor !== undefined) {
      beforeOrder = decodeCursor(query.cursor);
      if (beforeOrder === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const index = query.tenantId === undefined ? `${this.base}index` : `${this.base}index:t:${query.tenantId}`;
    const [recs, next, state] = (await this.#scripts.jwList(
      this.base,
      index,
      beforeOrder === undefined ? '+inf' : beforeOrder,
      query.limit,
      query.now,
      query.statuses ? [...query.statuses].join(',') : '',
      query.plugin ?? '',
      query.workspaceId ?? '',
      5_000,
    )) as [string[], string, string];
    const records = recs.map(parseRecord);
    return state === 'more' && next !== '' ? { records, nextCursor: encodeCursor(Number(next)) } : { records };
  }

  async remove(id: string): Promise<JobRecord | undefined> {
    const rec = (await this.#scripts.jwRemove(this.base, id)) as string | null;
    return rec ? parseRecord(rec) : undefined;
  }

  async expire(now: number, limit: number): Promise<string[]> {
    return (await this.#scripts.jwExpire(this.base, now, limit)) as string[];
  }

  async counts(now: number): Promise<JobCounts> {
    const [[, raw], [, delayed]] = (await this.#redis
      .multi()
      .hgetall(`${this.base}counts`)
      .zcount(`${this.base}runat`, `(${now}`, '+inf')
      .exec()) as [[null, Record<string, string>], [null, number]];
    return jobCounts((status) => Math.max(0, Number(raw[status] ?? 0)), delayed);
  }
}
