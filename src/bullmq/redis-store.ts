import type { Cluster, Redis } from 'ioredis';
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
import { RedisKeys } from './redis-keys.js';
import { APPEND, COMMIT, CREATE, REMOVE } from './redis-scripts.js';

/** A connection to one Redis or to a Redis Cluster: the store's keys of a queue share one slot, so either serves. */
export type RedisClient = Redis | Cluster;

/** A script called with its key count first, then its KEYS, then its ARGV (each script says which at its top). */
type Script = (numberOfKeys: number, ...keysThenArgs: (string | number)[]) => Promise<unknown>;
type Scripts = Record<'jwCreate' | 'jwCommit' | 'jwAppend' | 'jwRemove', Script>;

/** A record as a script returns it: its JSON, the job's seq, and `ev` (`output` when the last event is output). */
type RecordReply = [rec: string, seq: string, ev: string];

/** The record of a {@link RecordReply}, with the seq output moved it to. */
const recordOf = ([rec, seq, ev]: RecordReply | [string, string?, string?]): JobRecord => parseCurrentRecord(rec, seq, ev === 'output');

/** The events of an `out:<id>` entry (`<from> <to> <bytes> <batch JSON>`). */
const batchEvents = (entry: string): LoggedEvent[] => parseOutputBatch(entry.slice(entry.indexOf('{')));

/** Jobs a list scans at most for one page when a filter skips many (the page is short then, with a cursor); it reads the records of the page's jobs only. */
const LIST_SCAN_CAP = 5_000;
/** Jobs a filtered list scans per batch (their small fields in one round trip). */
const LIST_BATCH = 500;
/** Times a create follows an idempotency key to the job it names before giving up (each hop is a create or a removal racing it). */
const IDEMPOTENCY_HOPS = 10;

/** A job's fields a list filters on: small, whatever the job's size (its record is read only once it matches). */
const FILTER_FIELDS = ['status', 'plugin', 'workspaceId', 'expiresAtMs'] as const;
/** A matching job's fields as a list reads them for its page: the filter's again (the job may have changed since), then its record. */
const PAGE_FIELDS = [...FILTER_FIELDS, 'rec', 'ev', 'seq'] as const;

/**
 * jobwire's job records and event logs in Redis, next to BullMQ's queue, one atomic Lua script per
 * change (src/bullmq/lua). Every script is given every key it touches, and a queue's keys share one
 * hash tag (see {@link RedisKeys}): the store works the same on one Redis and on a Redis Cluster.
 * Events, output batches and removals are published on the queue's channel by the same scripts, so
 * a subscriber never hears of a change before it is written. A job's output is a list of its own,
 * one entry per batch appended: one script call, one publish per batch, however many chunks it
 * holds and however many readers follow the job.
 */
export class RedisJobStore implements JobStore {
  /** Key names of this store's queue. */
  readonly keys: RedisKeys;
  /** True on a Redis Cluster: changes go out by sharded pub/sub (SPUBLISH), which the node holding the queue's slot delivers itself. */
  readonly sharded: boolean;
  readonly #redis: RedisClient;
  readonly #scripts: Scripts;
  /** The scripts' publish command. */
  readonly #publish: 'PUBLISH' | 'SPUBLISH';

  /**
   * `sharded`: publish with SPUBLISH (Redis 7 or later) — on a Redis Cluster, where a PUBLISH
   * goes to every node over the cluster bus and is late and costly.
   */
  constructor(redis: RedisClient, prefix: string, queueName: string, options: { sharded?: boolean } = {}) {
    this.#redis = redis;
    this.keys = new RedisKeys(prefix, queueName);
    this.sharded = options.sharded ?? false;
    this.#publish = this.sharded ? 'SPUBLISH' : 'PUBLISH';
    const scripts = { jwCreate: CREATE, jwCommit: COMMIT, jwAppend: APPEND, jwRemove: REMOVE };
    // No fixed key count: each call passes its own (a removal names five keys per job).
    for (const [name, lua] of Object.entries(scripts)) redis.defineCommand(name, { lua });
    this.#scripts = redis as unknown as Scripts;
  }

  /** What every key of the queue starts with: `<prefix>:{<queue>}:jw:`. */
  get base(): string {
    return this.keys.base;
  }

  /** Where events (`e…`), output batches (`o…`) and removals (`r…`) are published. */
  get channel(): string {
    return this.keys.channel;
  }

  async create(record: JobRecord, at: number, limits: CreateLimits): Promise<CreateResult> {
    const k = this.keys;
    const jobKey = k.job(record.id);
    const tenantKey = record.tenantId === undefined ? undefined : k.tenantIndex(record.tenantId);
    const idemKey = record.idempotencyKey === undefined ? undefined : k.idem(idempotencyScope(record.tenantId, record.idempotencyKey));
    const argv = [
      JSON.stringify(record),
      JSON.stringify(eventOf(record, at)),
      Number.isFinite(limits.maxQueued) ? limits.maxQueued : 'inf',
      tenantKey === undefined ? '0' : '1',
      idemKey === undefined ? '0' : '1',
    ];
    // The job an idempotency key names is known only by reading the key: the script says which it
    // is, and is called again with that job's key among its KEYS (a cluster routes and checks by them).
    let named = '';
    for (let hop = 0; hop < IDEMPOTENCY_HOPS; hop++) {
      const keys = [jobKey, k.log(record.id), k.counts, k.order, k.index, k.runat, tenantKey ?? jobKey, idemKey ?? jobKey, named === '' ? jobKey : k.job(named)];
      const reply = (await this.#scripts.jwCreate(
        keys.length,
        ...keys,
        record.id,
        ...argv,
        named,
        limits.now,
        record.plugin,
        record.workspaceId ?? '',
        record.runAt ?? '',
        k.channel,
        this.#publish,
      )) as [string, string?, string?, string?];
      if (reply[0] === 'named') {
        named = reply[1] ?? '';
        continue;
      }
      if (reply[0] === 'existing') return { outcome: 'existing', record: recordOf(reply.slice(1) as RecordReply) };
      return { outcome: reply[0] === 'full' ? 'full' : 'created' };
    }
    throw new JobwireError('UNAVAILABLE', 'The idempotency key kept changing hands while the job was created: try again');
  }

  async get(id: string, now: number): Promise<JobRecord | undefined> {
    const [rec, expiresAtMs, seq, ev] = await this.#redis.hmget(this.keys.job(id), 'rec', 'expiresAtMs', 'seq', 'ev');
    if (rec === null || rec === undefined || (expiresAtMs !== null && expiresAtMs !== undefined && Number(expiresAtMs) <= now)) return undefined;
    return parseCurrentRecord(rec, seq, ev === 'output');
  }

  async commit(change: JobChange): Promise<CommitResult> {
    const { record } = change;
    const k = this.keys;
    const keys = [k.job(record.id), k.log(record.id), k.counts, k.runat, k.expiry];
    const reply = (await this.#scripts.jwCommit(
      keys.length,
      ...keys,
      record.id,
      String(record.seq - 1),
      JSON.stringify(record),
      JSON.stringify(eventOf(record, change.at)),
      change.replacesLast ? '1' : '0',
      record.status,
      record.expiresAt === undefined ? '' : record.expiresAt,
      record.runAt ?? '',
      k.channel,
      this.#publish,
    )) as [string, string?, string?, string?];
    return this.#outcome(reply);
  }

  async append(batch: OutputAppend): Promise<CommitResult> {
    const { json, kept, droppedHead } = keptOutput(batch);
    const keys = [this.keys.job(batch.jobId), this.keys.out(batch.jobId)];
    const reply = (await this.#scripts.jwAppend(
      keys.length,
      ...keys,
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
      this.keys.channel,
      this.#publish,
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
      .hmget(this.keys.job(id), 'seq', 'expiresAtMs', 'gapFrom', 'gapTo', 'gapAt')
      .lrange(this.keys.log(id), 0, -1)
      .lrange(this.keys.out(id), 0, -1)
      .exec()) as [[null, (string | null)[]], [null, string[]], [null, string[]]];
    const [seq, expiresAtMs, gapFrom, gapTo, gapAt] = fields;
    if (seq === null || seq === undefined || (expiresAtMs !== null && expiresAtMs !== undefined && Number(expiresAtMs) <= now)) return undefined;
    const statuses = entries.map(parseLoggedEvent);
    const gap = gapTo === null || gapTo === undefined ? undefined : gapEvent(id, Number(gapFrom), Number(gapTo), Number(gapAt));
    return mergeLog(statuses, batches.flatMap(batchEvents), gap);
  }

  /**
   * Newest first: a batch of ids from the index, then their small fields (status, plugin,
   * workspace, expiry) in one pipeline, filtered here; then the records of the matches the page
   * takes, in one more pipeline. A job's record is read only when it goes into the page, however
   * many jobs the filter skips or however large their records are: three round trips per batch, and
   * no script (which would touch job keys it was not given).
   */
  async list(query: StoreListQuery): Promise<RecordPage> {
    let beforeOrder: number | undefined;
    if (query.cursor !== undefined) {
      beforeOrder = decodeCursor(query.cursor);
      if (beforeOrder === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const index = query.tenantId === undefined ? this.keys.index : this.keys.tenantIndex(query.tenantId);
    const wanted = query.statuses ? new Set<string>(query.statuses) : undefined;
    const filtered = wanted !== undefined || query.plugin !== undefined || query.workspaceId !== undefined;
    /** Whether a job's filter fields (status, plugin, workspaceId, expiresAtMs) pass the query: a job that is gone has no status. */
    const matches = ([status, plugin, workspaceId, expiresAtMs]: (string | null | undefined)[]): boolean =>
      status !== null &&
      status !== undefined &&
      (expiresAtMs === null || expiresAtMs === undefined || Number(expiresAtMs) > query.now) &&
      (wanted === undefined || wanted.has(status)) &&
      (query.plugin === undefined || plugin === query.plugin) &&
      (query.workspaceId === undefined || workspaceId === query.workspaceId);
    const records: JobRecord[] = [];
    let max = beforeOrder === undefined ? '+inf' : `(${beforeOrder}`;
    let lastOrder = 0;
    let scanned = 0;
    for (;;) {
      // One more than the page (a page that fills up must know whether more follow).
      const size = Math.min(filtered ? Math.max(LIST_BATCH, query.limit + 1) : query.limit + 1, LIST_SCAN_CAP - scanned);
      const batch = await this.#redis.zrevrangebyscore(index, max, '-inf', 'WITHSCORES', 'LIMIT', 0, size);
      if (batch.length === 0) return { records };
      const ids: string[] = [];
      const orders: number[] = [];
      for (let i = 0; i < batch.length; i += 2) {
        ids.push(batch[i]!);
        orders.push(Number(batch[i + 1]));
      }
      const fields = await this.#hmgetAll(ids, FILTER_FIELDS);
      const candidates = ids.map((_, i) => i).filter((i) => matches(fields[i]!));
      // The records of as many matches as the page still takes; a match that changed since (or
      // went) is left out, and the next ones are read in its place.
      let next = 0;
      while (next < candidates.length) {
        if (records.length === query.limit) return { records, nextCursor: encodeCursor(lastOrder) };
        const taken = candidates.slice(next, next + query.limit - records.length);
        next += taken.length;
        const rows = await this.#hmgetAll(taken.map((i) => ids[i]!), PAGE_FIELDS);
        for (const [n, i] of taken.entries()) {
          const row = rows[n]!;
          if (!matches(row)) continue;
          const [, , , , rec, ev, seq] = row;
          records.push(parseCurrentRecord(rec, seq, ev === 'output'));
          lastOrder = orders[i]!;
        }
      }
      const last = orders.at(-1)!;
      scanned += ids.length;
      max = `(${last}`;
      if (scanned >= LIST_SCAN_CAP) return { records, nextCursor: encodeCursor(last) };
    }
  }

  /** `fields` of each job of `ids`, in one pipeline. */
  async #hmgetAll(ids: string[], fields: readonly string[]): Promise<(string | null)[][]> {
    const reads = this.#redis.pipeline();
    for (const id of ids) reads.hmget(this.keys.job(id), ...fields);
    const rows = ((await reads.exec()) ?? []) as [Error | null, (string | null)[]][];
    return rows.map(([error, row]) => {
      if (error) throw error;
      return row;
    });
  }

  async remove(id: string): Promise<JobRecord | undefined> {
    const [reply] = await this.#remove([id], '');
    return reply ? recordOf(reply) : undefined;
  }

  /** Ids whose expiry has passed, then one script removing those still due (another process may have been first). */
  async expire(now: number, limit: number): Promise<string[]> {
    const ids = await this.#redis.zrangebyscore(this.keys.expiry, '-inf', now, 'LIMIT', 0, limit);
    if (ids.length === 0) return [];
    const replies = await this.#remove(ids, String(now));
    return ids.filter((_, i) => replies[i]);
  }

  /**
   * Remove jobs (`cutoff` '' for any, else only those expired at it). A job's tenant index and
   * idempotency key are read first: the script is given every key it touches, and these two never
   * change once the job exists.
   */
  async #remove(ids: string[], cutoff: string): Promise<(RecordReply | null)[]> {
    const k = this.keys;
    const reads = this.#redis.pipeline();
    for (const id of ids) reads.hmget(k.job(id), 'tenantKey', 'idem');
    const pointers = ((await reads.exec()) ?? []) as [Error | null, (string | null)[]][];
    const keys = [k.counts, k.index, k.expiry, k.runat];
    ids.forEach((id, i) => {
      const job = k.job(id);
      const [tenantKey, idemKey] = pointers[i]?.[1] ?? [];
      keys.push(job, k.log(id), k.out(id), tenantKey || job, idemKey || job);
    });
    return (await this.#scripts.jwRemove(keys.length, ...keys, k.channel, this.#publish, cutoff, ...ids)) as (RecordReply | null)[];
  }

  async counts(now: number): Promise<JobCounts> {
    const [[, raw], [, delayed]] = (await this.#redis
      .multi()
      .hgetall(this.keys.counts)
      .zcount(this.keys.runat, `(${now}`, '+inf')
      .exec()) as [[null, Record<string, string>], [null, number]];
    return jobCounts((status) => Math.max(0, Number(raw[status] ?? 0)), delayed);
  }
}
