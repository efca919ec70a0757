import type { Pool, PoolClient } from 'pg';
import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, CreateLimits, CreateResult, JobChange, JobStore, OutputAppend, RecordPage, StoreListQuery } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { idempotencyScope } from '../engine/idempotency.js';
import { eventOf } from '../engine/job-json.js';
import { jobCounts } from '../engine/job-counts.js';
import { parseLoggedEvent } from '../engine/logged-events.js';
import { JobwireError } from '../errors.js';
import type { JobStatus } from '../job.js';
import { logDebug, type Logger } from '../logger.js';
import { decodeCursor, encodeCursor } from '../ordered-index.js';
import { gapEvent, lastSeqOf, mergeLog, parseOutputBatch } from '../output/output-events.js';
import type { JobCounts } from '../tracker/types.js';
import { keptOutput } from './kept-output.js';
import type { QueueEntryInsert } from './postgres-entry.js';
import { parseCurrentRecord } from './record-json.js';

/** A create's statement adding the job's BullMQ job, and how it is built. */
interface EntryInsert {
  insert: QueueEntryInsert;
  sql: string;
}

/** PostgreSQL's code for a call to a function that does not exist (with these argument types). */
const UNDEFINED_FUNCTION = '42883';
/** An event body longer than this many characters goes by reference (read back) without trying: NOTIFY payloads are capped at 8000 bytes. */
const INLINE_LIMIT = 7_000;
/** An output batch's NOTIFY payload up to this many UTF-8 bytes goes inline; a larger one by reference. */
const INLINE_OUTPUT_BYTES = 7_900;
/** The channel every process LISTENs on; payloads carry the queue, so one channel serves every queue. */
export const EVENTS_CHANNEL = 'jobwire_events';

/**
 * The tables (created once, idempotently; a column added since is added to an older table). Records
 * are the engine's JSON (`rec`), with the columns the store filters, orders and counts on beside
 * them (`run_at_ms`: the record's `runAt` while it is `queued`, else null); `job_events` is each
 * job's log of status events.
 *
 * Output: `job_output` holds a job's output batches as text (never jsonb, which refuses `\u0000`),
 * each at `start_bytes`, the job's output bytes written before it (so dropping the oldest past the
 * limit is one range delete on the key). On the record: `out_total` (output bytes ever written),
 * `gap_from`/`gap_to`/`gap_at` (the seqs of output dropped, and when), `last_output` (the last
 * event is an output chunk: `rec` then has an older seq, the `seq` column is the truth).
 */
const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS jobwire;
CREATE TABLE IF NOT EXISTS jobwire.job_records (
  queue text NOT NULL, id text NOT NULL, ord bigserial, status text NOT NULL, plugin text NOT NULL,
  tenant_id text, workspace_id text, rec text NOT NULL, seq integer NOT NULL,
  expires_at_ms bigint, idem_key text, PRIMARY KEY (queue, id));
CREATE INDEX IF NOT EXISTS job_records_by_order ON jobwire.job_records (queue, ord DESC);
CREATE INDEX IF NOT EXISTS job_records_by_tenant ON jobwire.job_records (queue, tenant_id, ord DESC);
CREATE INDEX IF NOT EXISTS job_records_by_status ON jobwire.job_records (queue, status);
CREATE INDEX IF NOT EXISTS job_records_by_expiry ON jobwire.job_records (queue, expires_at_ms) WHERE expires_at_ms IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS job_records_by_idem ON jobwire.job_records (queue, idem_key) WHERE idem_key IS NOT NULL;
ALTER TABLE jobwire.job_records ADD COLUMN IF NOT EXISTS run_at_ms bigint;
CREATE TABLE IF NOT EXISTS jobwire.job_events (
  queue text NOT NULL, job_id text NOT NULL, seq integer NOT NULL, type text NOT NULL, body text NOT NULL,
  PRIMARY KEY (queue, job_id, seq));
ALTER TABLE jobwire.job_records ADD COLUMN IF NOT EXISTS out_total bigint NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS gap_from integer, ADD COLUMN IF NOT EXISTS gap_to integer, ADD COLUMN IF NOT EXISTS gap_at bigint,
  ADD COLUMN IF NOT EXISTS last_output boolean NOT NULL DEFAULT false;
CREATE TABLE IF NOT EXISTS jobwire.job_output (
  queue text NOT NULL, job_id text NOT NULL, start_bytes bigint NOT NULL, from_seq integer NOT NULL, to_seq integer NOT NULL,
  bytes integer NOT NULL, body text NOT NULL, PRIMARY KEY (queue, job_id, start_bytes));
`;

/** The columns of `job_records` that {@link SCHEMA} adds to an older table. */
const ADDED_COLUMNS = ['run_at_ms', 'out_total', 'gap_from', 'gap_to', 'gap_at', 'last_output'];

/** True when every table and column of {@link SCHEMA} is there (the last ones it adds included). */
const CURRENT_SCHEMA = `
SELECT to_regclass('jobwire.job_events') IS NOT NULL AND to_regclass('jobwire.job_output') IS NOT NULL AND (
  SELECT count(*) FROM information_schema.columns WHERE table_schema = 'jobwire' AND table_name = 'job_records'
    AND column_name IN (${ADDED_COLUMNS.map((column) => `'${column}'`).join(', ')})
) = ${ADDED_COLUMNS.length} AS current`;

/**
 * Insert a job and its first event, and notify, in one statement. $1 queue, $2 id, $3 status,
 * $4 plugin, $5 tenant, $6 workspace, $7 rec, $8 idem key, $9 event body, $10 notify payload,
 * $11 run_at_ms. No row back: the idempotency key is taken. With an `entry`, the job's BullMQ entry
 * is added in the same statement when the job is inserted ($12 on: the entry's arguments).
 */
const insertSql = (entry?: QueueEntryInsert): string => `
WITH job AS (
  INSERT INTO jobwire.job_records (queue, id, status, plugin, tenant_id, workspace_id, rec, seq, idem_key, run_at_ms)
  VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $11) ON CONFLICT DO NOTHING RETURNING id),
ev AS (INSERT INTO jobwire.job_events (queue, job_id, seq, type, body) SELECT $1, id, 1, 'queued', $9 FROM job)
SELECT pg_notify('${EVENTS_CHANNEL}', $10) AS notified${entry ? `, ${entry.call(12)} AS entry` : ''} FROM job`;
const INSERT = insertSql();

/**
 * Compare-and-set a job, append or replace its log's last entry, and notify, in one statement.
 * $1 queue, $2 id, $3 expected seq, $4 rec, $5 status, $6 expires_at_ms, $7 event type, $8 body,
 * $9 replaces last, $10 notify payload, $11 run_at_ms. Returns one row: `ok`, and the record now
 * (`rec`, `seq`, `last_output`) when not ok.
 */
const COMMIT = `
WITH cur AS (SELECT seq, rec, last_output FROM jobwire.job_records WHERE queue = $1 AND id = $2 FOR UPDATE),
job AS (
  UPDATE jobwire.job_records j SET rec = $4, seq = $3 + 1, status = $5, expires_at_ms = COALESCE($6, j.expires_at_ms), run_at_ms = $11, last_output = false
  FROM cur WHERE j.queue = $1 AND j.id = $2 AND cur.seq = $3 RETURNING j.id),
added AS (INSERT INTO jobwire.job_events (queue, job_id, seq, type, body) SELECT $1, $2, $3 + 1, $7, $8 FROM job WHERE NOT $9),
replaced AS (UPDATE jobwire.job_events e SET seq = $3 + 1, type = $7, body = $8 FROM job WHERE $9 AND e.queue = $1 AND e.job_id = $2 AND e.seq = $3),
notified AS (SELECT pg_notify('${EVENTS_CHANNEL}', $10) FROM job)
SELECT EXISTS (SELECT 1 FROM job) AS ok, (SELECT rec FROM cur) AS rec, (SELECT seq FROM cur) AS seq, (SELECT last_output FROM cur) AS last_output, (SELECT count(*) FROM notified) AS n`;

/**
 * Compare-and-set for output, in one statement: when the job's seq is the expected one, store the
 * batch's kept part at the job's output bytes so far, delete the batches that start before the
 * newest `limit` bytes (noting the seqs dropped), move the seq on and notify once.
 * $1 queue, $2 id, $3 expected seq, $4 new seq, $5 batch bytes, $6 kept bytes, $7 kept body (null:
 * nothing kept), $8 and $9 kept first and last seq, $10 limit bytes, $11 and $12 first and last seq
 * of the batch's own chunks dropped at once (or null), $13 time (ms), $14 notify payload (null: by
 * reference, built here as the kept batch's key). Returns one row as {@link COMMIT} does.
 */
const APPEND = `
WITH cur AS (SELECT seq, rec, last_output, out_total FROM jobwire.job_records WHERE queue = $1 AND id = $2 FOR UPDATE),
ok AS (SELECT out_total + $5::bigint AS total FROM cur WHERE seq = $3),
dropped AS (
  DELETE FROM jobwire.job_output o USING ok WHERE o.queue = $1 AND o.job_id = $2 AND o.start_bytes < ok.total - $10::bigint
  RETURNING o.from_seq, o.to_seq),
gone AS (SELECT min(from_seq) AS first, max(to_seq) AS last FROM dropped),
job AS (
  UPDATE jobwire.job_records j SET seq = $4, last_output = true, out_total = ok.total,
    gap_from = COALESCE(j.gap_from, gone.first, $11::integer), gap_to = COALESCE($12::integer, gone.last, j.gap_to),
    gap_at = CASE WHEN $12::integer IS NULL AND gone.last IS NULL THEN j.gap_at ELSE $13::bigint END
  FROM ok, gone WHERE j.queue = $1 AND j.id = $2 RETURNING j.id),
kept AS (
  INSERT INTO jobwire.job_output (queue, job_id, start_bytes, from_seq, to_seq, bytes, body)
  SELECT $1, $2, ok.total - $6::bigint, $8::integer, $9::integer, $6::integer, $7::text FROM ok WHERE $7::text IS NOT NULL),
notified AS (
  SELECT pg_notify('${EVENTS_CHANNEL}', COALESCE($14::text,
    json_build_object('q', $1::text, 'oref', json_build_object('id', $2::text, 'start', ok.total - $6::bigint, 'from', $3 + 1))::text)) FROM ok)
SELECT EXISTS (SELECT 1 FROM ok) AS ok, (SELECT rec FROM cur) AS rec, (SELECT seq FROM cur) AS seq, (SELECT last_output FROM cur) AS last_output, (SELECT count(*) FROM notified) AS n`;

/**
 * A job's whole log in one query: its expiry and dropped output, and its status events and output
 * batches in seq order (a batch at its first seq). No row: the job is gone. $1 queue, $2 id.
 */
const LOG = `
SELECT j.expires_at_ms, j.gap_from, j.gap_to, j.gap_at, x.body, x.output
FROM jobwire.job_records j LEFT JOIN LATERAL (
  SELECT e.seq, e.body, false AS output FROM jobwire.job_events e WHERE e.queue = j.queue AND e.job_id = j.id
  UNION ALL
  SELECT o.from_seq, o.body, true FROM jobwire.job_output o WHERE o.queue = j.queue AND o.job_id = j.id
) x ON true
WHERE j.queue = $1 AND j.id = $2 ORDER BY x.seq`;

/**
 * Under the queue's lock, for a create with `maxQueued`: how many jobs are queued (`n`), and the
 * job holding the idempotency key (`holder`: its row as JSON, or null). $1 queue, $2 key (or null).
 */
const QUEUED_AND_HOLDER = `
SELECT (SELECT count(*) FROM jobwire.job_records WHERE queue = $1 AND status = 'queued') AS n,
  (SELECT json_build_object('id', id, 'rec', rec, 'seq', seq, 'last_output', last_output, 'expires_at_ms', expires_at_ms)
   FROM jobwire.job_records WHERE queue = $1 AND idem_key = $2::text) AS holder`;

/** A NOTIFY payload is at most this many bytes (PostgreSQL's limit is 8000, less one). */
const NOTIFY_BYTES = 7_999;

/**
 * Delete the jobs `source` selects (their events and output too), and notify each removal whose
 * record fits a notification, in one statement: the removal and its notice commit together. $1
 * queue, then `source`'s own parameters. Returns the deleted records, each with `notified` (false:
 * too large, the caller announces it without its input and result).
 */
const deleteWhere = (source: string): string => `
WITH gone AS (DELETE FROM jobwire.job_records WHERE queue = $1 AND id IN (${source}) RETURNING id, rec, seq, last_output),
events AS (DELETE FROM jobwire.job_events e USING gone WHERE e.queue = $1 AND e.job_id = gone.id),
outputs AS (DELETE FROM jobwire.job_output o USING gone WHERE o.queue = $1 AND o.job_id = gone.id),
payloads AS (SELECT id, json_build_object('q', $1::text, 'r', rec)::text AS payload FROM gone),
notified AS (SELECT id, pg_notify('${EVENTS_CHANNEL}', payload) FROM payloads WHERE octet_length(payload) <= ${NOTIFY_BYTES}),
ids AS (SELECT COALESCE(array_agg(id), '{}') AS ids FROM notified)
SELECT gone.id, rec, seq, last_output, gone.id = ANY (ids.ids) AS notified FROM gone, ids`;

/** Delete jobs by id ($2: ids); see {@link deleteWhere}. */
const DELETE = deleteWhere('SELECT unnest($2::text[])');

/** Delete up to $3 jobs expired at $2 (ms), soonest first, skipping rows another process holds; see {@link deleteWhere}. */
const EXPIRE = deleteWhere(
  'SELECT id FROM jobwire.job_records WHERE queue = $1 AND expires_at_ms IS NOT NULL AND expires_at_ms <= $2 ORDER BY expires_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED',
);

/**
 * A tenant or workspace id as its filter column holds it: JSON-encoded, because PostgreSQL text
 * cannot hold a NUL character, and ids are any string. Equal ids encode equally, so filters compare the encodings.
 */
function idColumn(id: string | undefined): string | null {
  return id === undefined ? null : JSON.stringify(id);
}

/** The `run_at_ms` of a record: its `runAt` while it is `queued` (a delayed job, a retry waiting), else null. */
function runAtColumn(record: JobRecord): number | null {
  return record.status === 'queued' && record.runAt !== undefined ? record.runAt : null;
}

/** A record's row: its JSON, and its seq when output moved it on. */
interface RecordRow {
  rec: string;
  seq: number;
  last_output: boolean;
}

/** The record of a {@link RecordRow}, with the seq output moved it to. */
const recordOf = (row: RecordRow): JobRecord => parseCurrentRecord(row.rec, row.seq, row.last_output);

/** One row of a commit or an append. */
interface CommitRow {
  ok: boolean;
  rec: string | null;
  seq: number | null;
  last_output: boolean | null;
}

/** One row of {@link LOG}. */
interface LogRow {
  expires_at_ms: string | null;
  gap_from: number | null;
  gap_to: number | null;
  gap_at: string | null;
  body: string | null;
  output: boolean | null;
}

/** A commit's or append's row as its outcome. */
function outcomeOf(row: CommitRow | undefined): CommitResult {
  if (row?.ok) return { ok: true };
  return { ok: false, current: row?.rec ? parseCurrentRecord(row.rec, row.seq, row.last_output === true) : undefined };
}

/**
 * jobwire's job records and logs in PostgreSQL, next to BullMQ's PostgreSQL queue: every change
 * is one statement (a compare-and-set on the job's row), and its event is published with NOTIFY
 * at commit, so a listener never hears of a change before it is written. An output batch is one
 * row and one notification, however many chunks it holds and however many readers follow the job.
 */
export class PostgresJobStore implements JobStore {
  readonly queue: string;
  readonly #pool: Pool;
  readonly #logger: Logger;
  /** Adds a created job's BullMQ entry in its insert (see {@link addQueueEntries}). */
  #entry: EntryInsert | undefined;

  constructor(pool: Pool, prefix: string, queueName: string, logger: Logger) {
    this.#pool = pool;
    this.queue = `${prefix}:${queueName}`;
    this.#logger = logger;
  }

  /** Create the tables once (an advisory lock keeps concurrent first starts apart). */
  async migrate(): Promise<void> {
    await this.#withClient(async (client) => {
      await client.query("SELECT pg_advisory_lock(hashtext('jobwire.schema'))");
      try {
        // A schema already current is left alone: its DDL would lock the tables that running
        // workers write to (a process starting during a rolling deploy stalls or deadlocks them).
        const { rows } = await client.query<{ current: boolean }>(CURRENT_SCHEMA);
        if (rows[0]?.current) return;
        await client.query(SCHEMA);
      } finally {
        await client.query("SELECT pg_advisory_unlock(hashtext('jobwire.schema'))");
      }
    });
  }

  /** From now on, a create adds the job's BullMQ entry in the statement that inserts its record. */
  addQueueEntries(insert: QueueEntryInsert): void {
    this.#entry = { insert, sql: insertSql(insert) };
  }

  async create(record: JobRecord, at: number, limits: CreateLimits): Promise<CreateResult> {
    const entry = this.#entry;
    try {
      return await this.#create(record, at, limits, entry);
    } catch (error) {
      if (!entry || (error as { code?: unknown }).code !== UNDEFINED_FUNCTION) throw error;
      // BullMQ's add_job changed since this process started (a newer BullMQ migrated its schema):
      // the failed statement wrote nothing; from now on a record goes in alone, and enqueue adds its BullMQ job.
      this.#logger.warn({ err: error }, "jobwire: BullMQ's add_job no longer takes the arguments this release knows: a submit now adds its BullMQ job in a statement of its own");
      if (this.#entry === entry) this.#entry = undefined;
      return this.#create(record, at, limits, undefined);
    }
  }

  async #create(record: JobRecord, at: number, limits: CreateLimits, entry: EntryInsert | undefined): Promise<CreateResult> {
    const idem = record.idempotencyKey === undefined ? null : idempotencyScope(record.tenantId, record.idempotencyKey);
    const body = JSON.stringify(eventOf(record, at));
    const values = [this.queue, record.id, record.status, record.plugin, idColumn(record.tenantId), idColumn(record.workspaceId), JSON.stringify(record), idem, body, this.#eventPayload(record, body), runAtColumn(record)];
    const entryArgs = entry?.insert.args(record);
    const insert = entry && entryArgs ? entry.sql : INSERT;
    if (entryArgs) values.push(...(entryArgs as never[]));
    const created = <T extends CreateResult>(result: T): T => {
      if (entry && entryArgs && result.outcome === 'created') entry.insert.added.add(record);
      return result;
    };
    if (!Number.isFinite(limits.maxQueued)) {
      // The common case is one statement; the idempotency key is held by the unique index.
      for (let attempt = 0; attempt < 3; attempt++) {
        const { rowCount } = await this.#pool.query(insert, values);
        if (rowCount) return created({ outcome: 'created' });
        const existing = await this.#holder(this.#pool, idem, limits.now);
        if (existing) return { outcome: 'existing', record: existing };
      }
      throw new JobwireError('UNAVAILABLE', 'Could not create the job: its idempotency key kept changing hands');
    }
    // maxQueued looks at other jobs: the queue's lock keeps two creates from both passing it.
    return this.#transaction(async (client) => {
      // The key's holder and the queued count, read in one statement once the lock is held.
      const { rows } = await client.query<{ n: string; holder: (RecordRow & { id: string; expires_at_ms: string | null }) | null }>(QUEUED_AND_HOLDER, [this.queue, idem]);
      const existing = await this.#liveHolder(client, rows[0]?.holder ?? undefined, limits.now);
      if (existing) return { outcome: 'existing' as const, record: existing };
      if (Number(rows[0]?.n ?? 0) >= limits.maxQueued) return { outcome: 'full' as const };
      const { rowCount } = await client.query(insert, values);
      if (rowCount) return created({ outcome: 'created' as const });
      // Another process took the key meanwhile (without this lock: it runs without maxQueued).
      const holder = await this.#holder(client, idem, limits.now);
      if (holder) return { outcome: 'existing' as const, record: holder };
      throw new JobwireError('UNAVAILABLE', 'Could not create the job: its idempotency key kept changing hands');
    }, this.queue);
  }

  /** The live job holding an idempotency key; an expired holder is removed, so the key is free again. */
  async #holder(db: Pool | PoolClient, idem: string | null, now: number): Promise<JobRecord | undefined> {
    if (idem === null) return undefined;
    const { rows } = await db.query<RecordRow & { id: string; expires_at_ms: string | null }>(
      'SELECT id, rec, seq, last_output, expires_at_ms FROM jobwire.job_records WHERE queue = $1 AND idem_key = $2',
      [this.queue, idem],
    );
    return this.#liveHolder(db, rows[0], now);
  }

  /** The record of a key's holder while it lives; an expired one is removed (the key is free again). */
  async #liveHolder(db: Pool | PoolClient, row: (RecordRow & { id: string; expires_at_ms: string | number | null }) | undefined, now: number): Promise<JobRecord | undefined> {
    if (!row) return undefined;
    if (row.expires_at_ms === null || Number(row.expires_at_ms) > now) return recordOf(row);
    await this.#delete(db, DELETE, [this.queue, [row.id]]);
    return undefined;
  }

  async get(id: string, now: number): Promise<JobRecord | undefined> {
    const { rows } = await this.#pool.query<RecordRow & { expires_at_ms: string | null }>(
      'SELECT rec, seq, last_output, expires_at_ms FROM jobwire.job_records WHERE queue = $1 AND id = $2',
      [this.queue, id],
    );
    const row = rows[0];
    if (!row || (row.expires_at_ms !== null && Number(row.expires_at_ms) <= now)) return undefined;
    return recordOf(row);
  }

  async commit(change: JobChange): Promise<CommitResult> {
    const { record } = change;
    const body = JSON.stringify(eventOf(record, change.at));
    const { rows } = await this.#pool.query<CommitRow>(COMMIT, [
      this.queue,
      record.id,
      record.seq - 1,
      JSON.stringify(record),
      record.status,
      record.expiresAt ?? null,
      record.event,
      body,
      change.replacesLast,
      this.#eventPayload(record, body),
      runAtColumn(record),
    ]);
    return outcomeOf(rows[0]);
  }

  async append(batch: OutputAppend): Promise<CommitResult> {
    const { json, bytes, kept, droppedHead } = keptOutput(batch);
    const { rows } = await this.#pool.query<CommitRow>(APPEND, [
      this.queue,
      batch.jobId,
      batch.afterSeq,
      lastSeqOf(batch),
      bytes,
      kept?.bytes ?? 0,
      kept?.json ?? null,
      kept?.from ?? null,
      kept?.to ?? null,
      batch.limitBytes,
      droppedHead?.from ?? null,
      droppedHead?.to ?? null,
      batch.at,
      this.#outputPayload(json),
    ]);
    return outcomeOf(rows[0]);
  }

  async log(id: string, now: number): Promise<LoggedEvent[] | undefined> {
    const { rows } = await this.#pool.query<LogRow>(LOG, [this.queue, id]);
    const first = rows[0];
    if (!first || (first.expires_at_ms !== null && Number(first.expires_at_ms) <= now)) return undefined;
    const statuses: LoggedEvent[] = [];
    const outputs: LoggedEvent[] = [];
    for (const row of rows) {
      if (row.body === null) continue;
      if (row.output) outputs.push(...parseOutputBatch(row.body));
      else statuses.push(parseLoggedEvent(row.body));
    }
    const gap = first.gap_to === null ? undefined : gapEvent(id, first.gap_from ?? first.gap_to, first.gap_to, Number(first.gap_at));
    return outputs.length === 0 && gap === undefined ? statuses : mergeLog(statuses, outputs, gap);
  }

  /**
   * Read one output batch back (NOTIFY carried a reference because it was too large): the text
   * stored at `start` (the job's output bytes before it), or `undefined` when it was dropped since.
   */
  async outputBatch(id: string, start: number): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ body: string }>('SELECT body FROM jobwire.job_output WHERE queue = $1 AND job_id = $2 AND start_bytes = $3', [this.queue, id, start]);
    return rows[0]?.body;
  }

  /** Read one event back (NOTIFY carried a reference because it was too large). */
  async event(id: string, seq: number): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ body: string }>('SELECT body FROM jobwire.job_events WHERE queue = $1 AND job_id = $2 AND seq = $3', [this.queue, id, seq]);
    return rows[0]?.body;
  }

  async list(query: StoreListQuery): Promise<RecordPage> {
    const where = ['queue = $1', '(expires_at_ms IS NULL OR expires_at_ms > $2)'];
    const values: unknown[] = [this.queue, query.now];
    const add = (sql: string, value: unknown): void => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (query.cursor !== undefined) {
      const beforeOrder = decodeCursor(query.cursor);
      if (beforeOrder === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
      add('ord < ?', beforeOrder);
    }
    if (query.tenantId !== undefined) add('tenant_id = ?', idColumn(query.tenantId));
    if (query.workspaceId !== undefined) add('workspace_id = ?', idColumn(query.workspaceId));
    if (query.plugin !== undefined) add('plugin = ?', query.plugin);
    if (query.statuses !== undefined) add('status = ANY(?)', [...query.statuses]);
    values.push(query.limit + 1);
    const { rows } = await this.#pool.query<RecordRow & { ord: string }>(
      `SELECT rec, seq, last_output, ord FROM jobwire.job_records WHERE ${where.join(' AND ')} ORDER BY ord DESC LIMIT $${values.length}`,
      values,
    );
    const page = rows.slice(0, query.limit);
    const records = page.map(recordOf);
    const last = page.at(-1);
    return rows.length > query.limit && last ? { records, nextCursor: encodeCursor(Number(last.ord)) } : { records };
  }

  async remove(id: string): Promise<JobRecord | undefined> {
    const [removed] = await this.#delete(this.#pool, DELETE, [this.queue, [id]]);
    return removed;
  }

  async expire(now: number, limit: number): Promise<string[]> {
    const removed = await this.#delete(this.#pool, EXPIRE, [this.queue, now, limit]);
    return removed.map((record) => record.id);
  }

  async counts(now: number): Promise<JobCounts> {
    const { rows } = await this.#pool.query<{ status: JobStatus; n: string; delayed: string }>(
      "SELECT status, count(*) AS n, count(*) FILTER (WHERE status = 'queued' AND run_at_ms > $2) AS delayed FROM jobwire.job_records WHERE queue = $1 GROUP BY status",
      [this.queue, now],
    );
    const byStatus = new Map(rows.map((row) => [row.status, Number(row.n)]));
    const delayed = rows.reduce((sum, row) => sum + Number(row.delayed), 0);
    return jobCounts((status) => byStatus.get(status) ?? 0, delayed);
  }

  /**
   * Run `work` holding the lock `name` of this queue, across every process using this database (a
   * transaction-scoped advisory lock, let go when `work` settles): what keeps two processes'
   * read-then-write of one thing apart.
   */
  async exclusive<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.#transaction(work, `${this.queue}:${name}`);
  }

  /**
   * Run a {@link deleteWhere} statement: jobs and their logs deleted and (most) removals notified
   * at once. A record too large for a notification is announced right after, without its input
   * and result. The records deleted.
   */
  async #delete(db: Pool | PoolClient, statement: string, values: unknown[]): Promise<JobRecord[]> {
    const { rows } = await db.query<RecordRow & { id: string; notified: boolean }>(statement, values);
    const records = rows.map(recordOf);
    const payloads = records.flatMap((record, index) => (rows[index]!.notified ? [] : [JSON.stringify({ q: this.queue, r: JSON.stringify({ ...record, input: null, result: undefined, metadata: {} }) })]));
    if (payloads.length > 0) await db.query('SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload', [EVENTS_CHANNEL, payloads]);
    return records;
  }

  /** The NOTIFY payload of an output batch when it fits inline; `null` when it goes by reference. */
  #outputPayload(json: string): string | null {
    if (json.length > INLINE_OUTPUT_BYTES) return null; // UTF-8 bytes are never fewer than UTF-16 units
    const payload = JSON.stringify({ q: this.queue, o: json });
    return Buffer.byteLength(payload, 'utf8') <= INLINE_OUTPUT_BYTES ? payload : null;
  }

  /**
   * The NOTIFY payload of an event: inline when it fits a notification (counted in UTF-8 bytes, after
   * the body's own escaping as a string), a reference to read back when not.
   */
  #eventPayload(record: JobRecord, body: string): string {
    if (body.length <= INLINE_LIMIT) {
      const payload = JSON.stringify({ q: this.queue, e: body });
      if (Buffer.byteLength(payload, 'utf8') <= NOTIFY_BYTES) return payload;
    }
    return JSON.stringify({ q: this.queue, ref: { id: record.id, seq: record.seq } });
  }

  /**
   * Run `work` in a transaction on one client of the pool. With `lock`, the transaction holds that
   * advisory lock from its start: `BEGIN` and the lock go out as one round trip (the statements
   * after it see what was committed before the lock was granted).
   */
  async #transaction<T>(work: (client: PoolClient) => Promise<T>, lock?: string): Promise<T> {
    return this.#withClient(async (client) => {
      try {
        await client.query(lock === undefined ? 'BEGIN' : `BEGIN; SELECT pg_advisory_xact_lock(hashtext(${client.escapeLiteral(lock)}))`);
        const result = await work(client);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        await client.query('ROLLBACK').catch(logDebug(this.#logger, 'a PostgreSQL rollback failed (the transaction is gone with its connection)'));
        throw error;
      }
    });
  }

  /**
   * A client of the pool for several statements. A checked-out client has no listener for its
   * `error` event (the pool removes its own while the client is out): a connection killed between
   * two statements would crash the process. One is attached here — in the pool's callback, at the
   * moment of checkout: awaiting `pool.connect()` leaves a gap of a microtask in which the rest of
   * the socket read that handed the client out (say, a termination notice right behind the previous
   * query's answer) emits `error` to nobody. A client that failed is destroyed on release instead
   * of going back to the pool.
   */
  async #withClient<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    let broken: Error | undefined;
    const onError = (error: Error): void => {
      broken = error;
      this.#logger.warn({ err: error }, `jobwire: a PostgreSQL connection failed: ${error.message}`);
    };
    const client = await new Promise<PoolClient>((resolve, reject) => {
      this.#pool.connect((error, checkedOut) => {
        if (error || !checkedOut) reject(error ?? new Error('The PostgreSQL pool handed out no client'));
        else {
          checkedOut.on('error', onError);
          resolve(checkedOut);
        }
      });
    });
    try {
      return await work(client);
    } finally {
      client.off('error', onError);
      client.release(broken); // a broken connection is destroyed, not pooled again
    }
  }
}
