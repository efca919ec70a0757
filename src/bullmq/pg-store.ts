import type { Pool, PoolClient, Client } from 'pg';
import type { JobEvent, JobSnapshot, JobStatus } from '../job.js';
import type { JobCounts } from '../tracker/types.js';
import { jobCounts } from '../tracker/job-counts.js';
import { eventJson, idempotencyKeyOf, snapshotJson, type Bus, type BusHandlers, type ChangeFields, type ChangeResult, type JobStore, type NewRecord, type StoreListQuery, type StoredJob } from './job-store.js';

/** NOTIFY payloads are capped at 8000 bytes: larger events go by reference and are read back. */
const INLINE_LIMIT = 7_000;
const EVENTS_CHANNEL = 'jobwire_events';
const CANCEL_CHANNEL = 'jobwire_cancel';

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS jobwire;
CREATE TABLE IF NOT EXISTS jobwire.jobs (
  queue text NOT NULL, id text NOT NULL, ord bigserial, status text NOT NULL, plugin text NOT NULL,
  tenant_id text, workspace_id text, base text NOT NULL, progress text NOT NULL DEFAULT '0',
  message text, result text, error text, started_at text, finished_at text, expires_at text,
  expires_at_ms bigint, seq integer NOT NULL DEFAULT 0, last_type text, timeout_ms integer,
  idem_key text, snap text NOT NULL DEFAULT '', PRIMARY KEY (queue, id));
CREATE INDEX IF NOT EXISTS jobs_by_order ON jobwire.jobs (queue, ord DESC);
CREATE INDEX IF NOT EXISTS jobs_by_tenant ON jobwire.jobs (queue, tenant_id, ord DESC);
CREATE INDEX IF NOT EXISTS jobs_by_status ON jobwire.jobs (queue, status);
CREATE INDEX IF NOT EXISTS jobs_by_expiry ON jobwire.jobs (queue, expires_at_ms) WHERE expires_at_ms IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS jobs_by_idem ON jobwire.jobs (queue, idem_key) WHERE idem_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS jobwire.events (
  queue text NOT NULL, job_id text NOT NULL, seq integer NOT NULL, type text NOT NULL, body text NOT NULL,
  PRIMARY KEY (queue, job_id, seq));
`;

interface Row {
  id: string;
  status: JobStatus;
  base: string;
  progress: string;
  message: string | null;
  result: string | null;
  error: string | null;
  started_at: string | null;
  finished_at: string | null;
  expires_at: string | null;
  expires_at_ms: string | null;
  seq: number;
  last_type: string | null;
  timeout_ms: number | null;
  snap: string;
}

/**
 * jobwire's job records in PostgreSQL, next to BullMQ's PostgreSQL queue: every change is one
 * transaction on the job's row (`FOR UPDATE`), and its event is published with NOTIFY at commit.
 */
export class PostgresJobStore implements JobStore {
  readonly queue: string;
  readonly #pool: Pool;

  constructor(pool: Pool, prefix: string, queueName: string) {
    this.#pool = pool;
    this.queue = `${prefix}:${queueName}`;
  }

  /** Create the tables once (an advisory lock keeps concurrent first starts apart). */
  async migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query("SELECT pg_advisory_lock(hashtext('jobwire.schema'))");
      await client.query(SCHEMA);
    } finally {
      await client.query("SELECT pg_advisory_unlock(hashtext('jobwire.schema'))").catch(() => undefined);
      client.release();
    }
  }

  async #transaction<T>(work: (client: PoolClient) => Promise<T>): Promise<T> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  /** Append the event for the row's current state (coalescing progress), store the snapshot, NOTIFY. */
  async #append(client: PoolClient, id: string, type: JobEvent['type'], at: string): Promise<string> {
    const { rows } = await client.query<Row>('SELECT * FROM jobwire.jobs WHERE queue = $1 AND id = $2', [this.queue, id]);
    const row = rows[0] as Row;
    const snap = snapshotJson({ base: row.base, status: row.status, progress: row.progress, message: row.message, result: row.result, error: row.error, startedAt: row.started_at, finishedAt: row.finished_at, expiresAt: row.expires_at });
    const seq = row.seq + 1;
    const body = eventJson(seq, type, id, at, snap);
    if (type === 'progress' && row.last_type === 'progress') {
      await client.query('UPDATE jobwire.events SET seq = $4, body = $5 WHERE queue = $1 AND job_id = $2 AND seq = $3', [this.queue, id, row.seq, seq, body]);
    } else {
      await client.query('INSERT INTO jobwire.events (queue, job_id, seq, type, body) VALUES ($1, $2, $3, $4, $5)', [this.queue, id, seq, type, body]);
    }
    await client.query('UPDATE jobwire.jobs SET seq = $3, last_type = $4, snap = $5 WHERE queue = $1 AND id = $2', [this.queue, id, seq, type, snap]);
    const payload = body.length <= INLINE_LIMIT ? JSON.stringify({ q: this.queue, e: body }) : JSON.stringify({ q: this.queue, ref: { id, seq } });
    await client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, payload]);
    return snap;
  }

  async create(record: NewRecord): Promise<{ outcome: 'created' | 'existing'; job: JobSnapshot } | { outcome: 'full' }> {
    const idem = record.idempotencyKey === undefined ? null : idempotencyKeyOf(record.tenantId, record.idempotencyKey);
    return this.#transaction(async (client) => {
      // Checks that look at other jobs (the key, the queue length) take the queue's lock, so two
      // concurrent submits cannot both pass them.
      if (idem !== null || Number.isFinite(record.maxQueued)) {
        await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [this.queue]);
      }
      if (idem !== null) {
        const { rows } = await client.query<Row>('SELECT * FROM jobwire.jobs WHERE queue = $1 AND idem_key = $2 FOR UPDATE', [this.queue, idem]);
        const existing = rows[0];
        if (existing) {
          if (existing.expires_at_ms === null || Number(existing.expires_at_ms) > record.now) return { outcome: 'existing' as const, job: JSON.parse(existing.snap) as JobSnapshot };
          await this.#delete(client, existing.id); // expired: the key is free again
        }
      }
      if (Number.isFinite(record.maxQueued)) {
        const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM jobwire.jobs WHERE queue = $1 AND status = 'queued'", [this.queue]);
        if (Number(rows[0]?.n ?? 0) >= record.maxQueued) return { outcome: 'full' as const };
      }
      await client.query(
        "INSERT INTO jobwire.jobs (queue, id, status, plugin, tenant_id, workspace_id, base, timeout_ms, idem_key) VALUES ($1, $2, 'queued', $3, $4, $5, $6, $7, $8)",
        [this.queue, record.id, record.plugin, record.tenantId ?? null, record.workspaceId ?? null, record.baseJson, record.timeoutMs ?? null, idem],
      );
      const snap = await this.#append(client, record.id, 'queued', record.at);
      return { outcome: 'created' as const, job: JSON.parse(snap) as JobSnapshot };
    });
  }

  async change(id: string, from: readonly JobStatus[], to: JobStatus | undefined, eventType: JobEvent['type'], at: string, fields: ChangeFields = {}, expiresAtMs?: number): Promise<ChangeResult> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<Row>('SELECT status, snap, expires_at_ms FROM jobwire.jobs WHERE queue = $1 AND id = $2 FOR UPDATE', [this.queue, id]);
      const row = rows[0];
      if (!row) return { outcome: 'missing' as const };
      if (!from.includes(row.status)) {
        return { outcome: 'refused' as const, job: JSON.parse(row.snap) as JobSnapshot, status: row.status, expiresAtMs: row.expires_at_ms === null ? undefined : Number(row.expires_at_ms) };
      }
      const columns: Record<keyof ChangeFields, string> = { message: 'message', result: 'result', error: 'error', progress: 'progress', startedAt: 'started_at', finishedAt: 'finished_at', expiresAt: 'expires_at' };
      const sets: string[] = [];
      const values: unknown[] = [this.queue, id];
      for (const [name, value] of Object.entries(fields) as [keyof ChangeFields, string | undefined][]) {
        if (value === undefined) continue;
        values.push(value === '' ? null : value);
        sets.push(`${columns[name]} = $${values.length}`);
      }
      if (to !== undefined) {
        values.push(to);
        sets.push(`status = $${values.length}`);
      }
      if (expiresAtMs !== undefined) {
        values.push(expiresAtMs);
        sets.push(`expires_at_ms = $${values.length}`);
      }
      if (sets.length > 0) await client.query(`UPDATE jobwire.jobs SET ${sets.join(', ')} WHERE queue = $1 AND id = $2`, values);
      const snap = await this.#append(client, id, eventType, at);
      return { outcome: 'ok' as const, job: JSON.parse(snap) as JobSnapshot };
    });
  }

  async start(id: string, at: string, requeueMessage: string): Promise<StoredJob | undefined> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<Row>('SELECT status, base, timeout_ms FROM jobwire.jobs WHERE queue = $1 AND id = $2 FOR UPDATE', [this.queue, id]);
      const row = rows[0];
      if (!row) return undefined;
      if (row.status === 'running') {
        await client.query("UPDATE jobwire.jobs SET status = 'queued', progress = '0', message = $3 WHERE queue = $1 AND id = $2", [this.queue, id, JSON.stringify(requeueMessage)]);
        await this.#append(client, id, 'queued', at);
      } else if (row.status !== 'queued') {
        return undefined;
      }
      await client.query("UPDATE jobwire.jobs SET status = 'running', started_at = $3, message = NULL WHERE queue = $1 AND id = $2", [this.queue, id, JSON.stringify(at)]);
      await this.#append(client, id, 'started', at);
      return { job: JSON.parse(`${row.base}}`) as StoredJob['job'], timeoutMs: row.timeout_ms ?? undefined };
    });
  }

  async get(id: string, now: number): Promise<JobSnapshot | undefined> {
    const { rows } = await this.#pool.query<Row>('SELECT snap, expires_at_ms FROM jobwire.jobs WHERE queue = $1 AND id = $2', [this.queue, id]);
    const row = rows[0];
    if (!row || (row.expires_at_ms !== null && Number(row.expires_at_ms) <= now)) return undefined;
    return JSON.parse(row.snap) as JobSnapshot;
  }

  async log(id: string, now: number): Promise<JobEvent[] | undefined> {
    // One query: the job's expiry and its events (none when the job is gone).
    const { rows } = await this.#pool.query<{ body: string | null; expires_at_ms: string | null }>(
      'SELECT e.body, j.expires_at_ms FROM jobwire.jobs j LEFT JOIN jobwire.events e ON e.queue = j.queue AND e.job_id = j.id WHERE j.queue = $1 AND j.id = $2 ORDER BY e.seq',
      [this.queue, id],
    );
    const first = rows[0];
    if (!first || (first.expires_at_ms !== null && Number(first.expires_at_ms) <= now)) return undefined;
    return rows.flatMap((row) => (row.body === null ? [] : [JSON.parse(row.body) as JobEvent]));
  }

  /** Read one event back (NOTIFY carried a reference because it was too large). */
  async event(id: string, seq: number): Promise<string | undefined> {
    const { rows } = await this.#pool.query<{ body: string }>('SELECT body FROM jobwire.events WHERE queue = $1 AND job_id = $2 AND seq = $3', [this.queue, id, seq]);
    return rows[0]?.body;
  }

  async #delete(client: PoolClient, id: string): Promise<string | undefined> {
    const { rows } = await client.query<{ snap: string }>('DELETE FROM jobwire.jobs WHERE queue = $1 AND id = $2 RETURNING snap', [this.queue, id]);
    if (!rows[0]) return undefined;
    await client.query('DELETE FROM jobwire.events WHERE queue = $1 AND job_id = $2', [this.queue, id]);
    const removal = `{"removed":"${id}","job":${rows[0].snap}}`;
    const payload = removal.length <= INLINE_LIMIT ? JSON.stringify({ q: this.queue, e: removal }) : JSON.stringify({ q: this.queue, e: `{"removed":"${id}","job":{"id":"${id}"}}` });
    await client.query('SELECT pg_notify($1, $2)', [EVENTS_CHANNEL, payload]);
    return rows[0].snap;
  }

  async remove(id: string): Promise<JobSnapshot | undefined> {
    const snap = await this.#transaction((client) => this.#delete(client, id));
    return snap === undefined ? undefined : (JSON.parse(snap) as JobSnapshot);
  }

  async sweep(now: number, limit = 1_000): Promise<string[]> {
    return this.#transaction(async (client) => {
      const { rows } = await client.query<{ id: string }>(
        'SELECT id FROM jobwire.jobs WHERE queue = $1 AND expires_at_ms IS NOT NULL AND expires_at_ms <= $2 ORDER BY expires_at_ms LIMIT $3 FOR UPDATE SKIP LOCKED',
        [this.queue, now, limit],
      );
      for (const row of rows) await this.#delete(client, row.id);
      return rows.map((row) => row.id);
    });
  }

  async list(query: StoreListQuery): Promise<{ jobs: JobSnapshot[]; nextOrder: number | undefined }> {
    const where = ['queue = $1', '(expires_at_ms IS NULL OR expires_at_ms > $2)'];
    const values: unknown[] = [this.queue, query.now];
    const add = (sql: string, value: unknown): void => {
      values.push(value);
      where.push(sql.replace('?', `$${values.length}`));
    };
    if (query.beforeOrder !== undefined) add('ord < ?', query.beforeOrder);
    if (query.tenantId !== undefined) add('tenant_id = ?', query.tenantId);
    if (query.workspaceId !== undefined) add('workspace_id = ?', query.workspaceId);
    if (query.plugin !== undefined) add('plugin = ?', query.plugin);
    if (query.statuses !== undefined) add('status = ANY(?)', [...query.statuses]);
    values.push(query.limit + 1);
    const { rows } = await this.#pool.query<{ snap: string; ord: string }>(`SELECT snap, ord FROM jobwire.jobs WHERE ${where.join(' AND ')} ORDER BY ord DESC LIMIT $${values.length}`, values);
    const page = rows.slice(0, query.limit);
    return { jobs: page.map((row) => JSON.parse(row.snap) as JobSnapshot), nextOrder: rows.length > query.limit ? Number(page.at(-1)?.ord) : undefined };
  }

  async stats(): Promise<JobCounts> {
    const { rows } = await this.#pool.query<{ status: JobStatus; n: string }>('SELECT status, count(*) AS n FROM jobwire.jobs WHERE queue = $1 GROUP BY status', [this.queue]);
    const byStatus = new Map(rows.map((row) => [row.status, Number(row.n)]));
    return jobCounts((status) => byStatus.get(status) ?? 0);
  }

  async publishCancel(id: string, code: 'CANCELLED' | 'CLOSED', reason: string): Promise<void> {
    await this.#pool.query('SELECT pg_notify($1, $2)', [CANCEL_CHANNEL, JSON.stringify({ q: this.queue, m: JSON.stringify({ id, code, reason }) })]);
  }
}

/**
 * LISTEN/NOTIFY on a dedicated connection: events and cancels of this queue, in commit order.
 * Large events arrive by reference and are read back, in order, before the next message.
 */
export class PostgresBus implements Bus {
  readonly #client: Client;
  readonly #store: PostgresJobStore;
  #chain: Promise<void> = Promise.resolve();

  constructor(client: Client, store: PostgresJobStore) {
    this.#client = client;
    this.#store = store;
  }

  async start(handlers: BusHandlers): Promise<void> {
    this.#client.on('notification', (notification) => {
      const payload = JSON.parse(notification.payload ?? '{}') as { q?: string; e?: string; m?: string; ref?: { id: string; seq: number } };
      if (payload.q !== this.#store.queue) return;
      if (notification.channel === CANCEL_CHANNEL) {
        if (payload.m) handlers.cancel(payload.m);
        return;
      }
      this.#chain = this.#chain.then(async () => {
        const text = payload.e ?? (payload.ref ? await this.#store.event(payload.ref.id, payload.ref.seq).catch(() => undefined) : undefined);
        if (text) handlers.event(text);
      });
    });
    await this.#client.connect();
    await this.#client.query(`LISTEN ${EVENTS_CHANNEL}`);
    await this.#client.query(`LISTEN ${CANCEL_CHANNEL}`);
  }

  async close(): Promise<void> {
    await this.#chain;
    await this.#client.end().catch(() => undefined);
  }
}
