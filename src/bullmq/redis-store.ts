import type { Redis } from 'ioredis';
import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, CreateLimits, CreateResult, JobChange, JobStore, OutputAppend, RecordPage, StoreListQuery } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { idempotencyScope } from '../engine/idempotency.js';
import { eventOf } from '../engine/job-json.js';
import { jobCounts } from '../engine/job-counts.js';
import { parseLoggedEvent } from '../engine/logged-events.js';
import { JobwireError } from '../errors.js';
import { decodeCursor, encodeCursor } from '../ordered-index.js';
import { gapEvent, lastSeqOf, mergeLog, parseOutputBatch } from '../output/output-events.js';
import type { JobCounts } from '../tracker/types.js';
import { keptOutput } from './kept-output.js';
import { parseCurrentRecord } from './record-json.js';
import { APPEND, COMMIT, CREATE, EXPIRE, LIST, REMOVE } from './redis-scripts.js';

type Script = (...args: (string | number)[]) => Promise<unknown>;
type Scripts = Record<'jwCreate' | 'jwCommit' | 'jwAppend' | 'jwRemove' | 'jwExpire' | 'jwList', Script>;

/** A record as a script returns it: its JSON, the job's seq, and `ev` (`output` when the last event is output). */
type RecordReply = [rec: string, seq: string, ev: string];

/** The record of a {@link RecordReply}, with the seq output moved it to. */
const recordOf = ([rec, seq, ev]: RecordReply | [string, string?, string?]): JobRecord => parseCurrentRecord(rec, seq, ev === 'output');

/** The events of an `out:<id>` entry (`<from> <to> <bytes> <batch JSON>`). */
const batchEvents = (entry: string): LoggedEvent[] => parseOutputBatch(entry.slice(entry.indexOf('{')));

/**
 * jobwire's job records and event logs in Redis, next to BullMQ's queue, one atomic Lua script per
 * change (see redis-scripts.ts). Events, output batches and removals are published on
 * `<base>events` by the same scripts, so a subscriber never hears of a change before it is written.
 * A job's output is a list of its own, one entry per batch appended: one script call, one publish
 * per batch, however many chunks it holds and however many readers follow the job.
 */
export class RedisJobStore implements JobStore {
  /** Key prefix of this store's keys. */
  readonly base: string;
  /** Where events (`e…`), output batches (`o…`) and removals (`r…`) are published. */
  readonly channel: string;
  readonly #redis: Redis;
  readonly #scripts: Scripts;

  constructor(redis: Redis, prefix: string, queueName: string) {
    this.#redis = redis;
    this.base = `${prefix}:${queueName}:jw:`;
    this.channel = `${this.base}events`;
    const scripts = { jwCreate: CREATE, jwCommit: COMMIT, jwAppend: APPEND, jwRemove: REMOVE, jwExpire: EXPIRE, jwList: LIST };
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
    )) as [string, string?, string?, string?];
    if (reply[0] === 'existing') return { outcome: 'existing', record: recordOf(reply.slice(1) as RecordReply) };
    return { outcome: reply[0] === 'full' ? 'full' : 'created' };
  }

  async get(id: string, now: number): Promise<JobRecord | undefined> {
    const [rec, expiresAtMs, seq, ev] = await this.#redis.hmget(`${this.base}job:${id}`, 'rec', 'expiresAtMs', 'seq', 'ev');
    if (rec === null || rec === undefined || (expiresAtMs !== null && expiresAtMs !== undefined && Number(expiresAtMs) <= now)) return undefined;
    return parseCurrentRecord(rec, seq, ev === 'output');
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
    )) as [string, string?, string?, string?];
    return this.#outcome(reply);
  }

  async append(batch: OutputAppend): Promise<CommitResult> {
    const { json, kept, droppedHead } = keptOutput(batch);
    const reply = (await this.#scripts.jwAppend(
      this.base,
      batch.jobId,
      String(batch.afterSeq),
      String(lastSeqOf(batch)),
      kept ? `${kept.from} ${kept.to} ${kept.bytes} ` : '',
      kept === undefined || kept.json === json ? '=' : kept.json,
      json,
      kept?.bytes ?? 0,
      batch.limitBytes,
      droppedHead?.from ?? '',
      droppedHead?.to ?? '',
      batch.at,
    )) as [string, string?, string?, string?];
    return this.#outcome(reply);
  }

  /** A commit's or append's reply as its outcome. */
  #outcome(reply: [string, string?, string?, string?]): CommitResult {
    if (reply[0] === 'ok') return { ok: true };
    return { ok: false, current: reply[0] === 'conflict' ? recordOf(reply.slice(1) as RecordReply) : undefined };
  }

  async log(id: string, now: number): Promise<LoggedEvent[] | undefined> {
    // One MULTI: the job's fields, its status events and its output batches, as of one moment.
    const [[, fields], [, entries], [, batches]] = (await this.#redis
      .multi()
      .hmget(`${this.base}job:${id}`, 'seq', 'expiresAtMs', 'gapFrom', 'gapTo', 'gapAt')
      .lrange(`${this.base}log:${id}`, 0, -1)
      .lrange(`${this.base}out:${id}`, 0, -1)
      .exec()) as [[null, (string | null)[]], [null, string[]], [null, string[]]];
    const [seq, expiresAtMs, gapFrom, gapTo, gapAt] = fields;
    if (seq === null || seq === undefined || (expiresAtMs !== null && expiresAtMs !== undefined && Number(expiresAtMs) <= now)) return undefined;
    const statuses = entries.map(parseLoggedEvent);
    const gap = gapTo === null || gapTo === undefined ? undefined : gapEvent(id, Number(gapFrom), Number(gapTo), Number(gapAt));
    return mergeLog(statuses, batches.flatMap(batchEvents), gap);
  }

  async list(query: StoreListQuery): Promise<RecordPage> {
    let beforeOrder: number | undefined;
    if (query.cursor !== undefined) {
      beforeOrder = decodeCursor(query.cursor);
      if (beforeOrder === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const index = query.tenantId === undefined ? `${this.base}index` : `${this.base}index:t:${query.tenantId}`;
    const [recs, next, state, seqs] = (await this.#scripts.jwList(
      this.base,
      index,
      beforeOrder === undefined ? '+inf' : beforeOrder,
      query.limit,
      query.now,
      query.statuses ? [...query.statuses].join(',') : '',
      query.plugin ?? '',
      query.workspaceId ?? '',
      5_000,
    )) as [string[], string, string, string[]];
    const records = recs.map((rec, i) => parseCurrentRecord(rec, seqs[i], seqs[i] !== '' && seqs[i] !== undefined));
    return state === 'more' && next !== '' ? { records, nextCursor: encodeCursor(Number(next)) } : { records };
  }

  async remove(id: string): Promise<JobRecord | undefined> {
    const reply = (await this.#scripts.jwRemove(this.base, id)) as RecordReply | null;
    return reply ? recordOf(reply) : undefined;
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
