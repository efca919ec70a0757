import { createPostgresBackend, Queue } from 'bullmq';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobRecord } from '../../src/backend/index.js';
import { definePlugin, JobTracker, LocalPluginManager, silentLogger } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { PostgresBus } from '../../src/bullmq/postgres-bus.js';
import { queueEntryInsert, type QueueEntryInsert } from '../../src/bullmq/postgres-entry.js';
import { PostgresJobStore } from '../../src/bullmq/postgres-store.js';
import { endedRecord, queuedRecord, startedRecord } from '../../src/engine/records.js';
import { until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';

const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ-on-PostgreSQL statement counts — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = `jwstmt${process.pid}${Date.now().toString(36)}`;

/** Every statement this process sends from here on (pools query through their clients), as text. */
const statements: string[] = [];
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
  const first = args[0];
  const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
  if (typeof text === 'string') statements.push(text);
  return (query as (...a: unknown[]) => unknown).apply(this, args);
} as typeof query;
afterAll(async () => {
  pg.Client.prototype.query = query;
  if (postgresUp) {
    await deleteQueues(prefix);
    const client = new pg.Client({ connectionString: POSTGRES_URL });
    await client.connect();
    await client.query('DELETE FROM jobwire.job_output WHERE queue LIKE $1', [`${prefix}%`]).finally(() => client.end());
  }
});

const noop = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: async () => ({ ok: true }) });

/** Statements that read or write jobwire's own tables (the record store and its bus). */
const storeStatements = (from: number): string[] => statements.slice(from).filter((text) => text.includes('jobwire.'));

describe.skipIf(!postgresUp)('BullMQ backend on PostgreSQL: statements per job', () => {
  it('a job submitted and completed (no progress) costs the record store three statements, each a change with its event and notification: create (with the BullMQ job), claim, finish', async () => {
    const backend = new BullMQBackend({ connection: POSTGRES_URL, queueName: `${prefix}-count`, prefix, role: 'both', concurrency: 2 });
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(noop), backend, logger: silentLogger });
    try {
      await backend.ready();
      const completed: string[] = [];
      tracker.on('job:completed', (event) => completed.push(event.jobId));
      const jobs = 20;
      const from = statements.length;
      for (let i = 0; i < jobs; i++) await tracker.submit('noop', { i });
      await until(() => completed.length === jobs);
      const ours = storeStatements(from);
      const inserts = ours.filter((text) => /INSERT INTO jobwire\.job_records/.test(text));
      const changes = ours.filter((text) => /UPDATE jobwire\.job_records/.test(text));
      expect(inserts).toHaveLength(jobs);
      expect(changes).toHaveLength(2 * jobs); // queued → running, running → completed
      expect(ours).toHaveLength(3 * jobs); // no reads besides: the worker claims from the record the BullMQ job carries
      for (const text of ours) expect(text).toContain('pg_notify'); // each change notifies in its own statement
      // BullMQ is told of each job once, in the statement that creates its record: one statement (and one commit) per submit.
      expect(statements.slice(from).filter((text) => /\badd_job\(/.test(text))).toHaveLength(jobs);
      for (const text of inserts) expect(text).toMatch(/\bbullmq\.add_job\(/);
    } finally {
      await tracker.close({ timeoutMs: 1_000 });
    }
  });
});

const NOW = Date.UTC(2030, 0, 1);

/** Statements sent since `from`, but the bus's read-backs of events too large to notify (the large job's, made just before). */
const writes = (from: number): string[] => statements.slice(from).filter((text) => !text.startsWith('SELECT body FROM jobwire.job_events'));
let ids = 0;

/** A new queued record; `idempotencyKey` as given. */
function newRecord(idempotencyKey?: string, input: unknown = {}): JobRecord {
  return queuedRecord(`job${++ids}x${Math.random().toString(36).slice(2, 10)}`, {
    plugin: 'p', input, tenantId: undefined, workspaceId: undefined, metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey,
    attempts: undefined, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined,
  }, undefined, NOW);
}

/** A job created in the store and finished at NOW + 2, expiring `ttlMs` later; `input` as given. */
async function finishedJob(store: PostgresJobStore, ttlMs: number, input: unknown = {}): Promise<JobRecord> {
  const queued = newRecord(undefined, input);
  expect(await store.create(queued, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
  const started = startedRecord(queued, NOW + 1);
  expect(await store.commit({ record: started, at: NOW + 1, replacesLast: false })).toEqual({ ok: true });
  const ended = endedRecord(started, 'completed', NOW + 2, ttlMs, { result: { ok: true } });
  expect(await store.commit({ record: ended, at: NOW + 2, replacesLast: false })).toEqual({ ok: true });
  return ended;
}

describe.skipIf(!postgresUp)('PostgreSQL job store: a create with maxQueued', () => {
  it('takes the queue lock with BEGIN, reads the queued count and the key holder in one statement, inserts and commits: four round trips; full and existing answer as before', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = new PostgresJobStore(pool, prefix, 'limited', silentLogger);
    try {
      await store.migrate();
      const limits = { maxQueued: 2, now: NOW };
      let from = statements.length;
      const first = newRecord('k1');
      expect(await store.create(first, NOW, limits)).toEqual({ outcome: 'created' });
      expect(statements.slice(from)).toHaveLength(4);
      expect(statements[from]).toMatch(/^BEGIN; SELECT pg_advisory_xact_lock/);
      expect(statements.at(-1)).toBe('COMMIT');
      from = statements.length;
      const again = await store.create(newRecord('k1'), NOW, limits);
      expect(again.outcome === 'existing' && again.record.id).toBe(first.id);
      expect(statements.slice(from)).toHaveLength(3); // BEGIN and lock, the read, COMMIT
      expect(await store.create(newRecord(), NOW, limits)).toEqual({ outcome: 'created' });
      expect(await store.create(newRecord(), NOW, limits)).toEqual({ outcome: 'full' });
      // A key whose holder has expired is free again.
      const started = startedRecord(first, NOW + 1);
      const done = endedRecord(started, 'completed', NOW + 2, 1_000, { result: null });
      expect(await store.commit({ record: started, at: NOW + 1, replacesLast: false })).toEqual({ ok: true });
      expect(await store.commit({ record: done, at: NOW + 2, replacesLast: false })).toEqual({ ok: true });
      expect(await store.create(newRecord('k1'), NOW + 5_000, { maxQueued: 2, now: NOW + 5_000 })).toEqual({ outcome: 'created' });
      expect(await store.get(first.id, NOW)).toBeUndefined();
    } finally {
      await pool.end();
    }
  });
});

describe.skipIf(!postgresUp)('PostgreSQL job store: notifications', () => {
  it('an event whose notification would pass PostgreSQL\'s 8000 bytes once escaped goes by reference and is read back, whatever its length in characters', async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = new PostgresJobStore(pool, prefix, 'escaped', silentLogger);
    const heard: string[] = [];
    const bus = new PostgresBus((config) => new pg.Client(config), POSTGRES_URL, store, silentLogger);
    try {
      await store.migrate();
      await bus.subscribe({ event: (event) => void heard.push(event.jobId), removed: () => undefined, resync: () => undefined });
      // About 6,000 characters of event, but every quote is escaped once more in the notification.
      const record = newRecord(undefined, { text: '"'.repeat(2_900) });
      expect(await store.create(record, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      await until(() => heard.includes(record.id));
    } finally {
      await bus.close();
      await pool.end();
    }
  });
});

describe.skipIf(!postgresUp)('PostgreSQL job store: removals', () => {
  let pool: pg.Pool;
  let store: PostgresJobStore;
  let bus: PostgresBus;
  const removed: JobRecord[] = [];

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    store = new PostgresJobStore(pool, prefix, 'removals', silentLogger);
    await store.migrate();
    bus = new PostgresBus((config) => new pg.Client(config), POSTGRES_URL, store, silentLogger);
    await bus.subscribe({ event: () => undefined, removed: (record) => removed.push(record), resync: () => undefined });
  });
  afterAll(async () => {
    await bus?.close();
    await pool?.end();
  });

  it('remove() deletes the job, its log and output, and notifies in one statement; a record too large for a notification is announced without its input', async () => {
    const small = await finishedJob(store, 60_000);
    const large = await finishedJob(store, 60_000, { text: 'x'.repeat(9_000) });
    let from = statements.length;
    expect((await store.remove(small.id))?.id).toBe(small.id);
    expect(writes(from)).toHaveLength(1);
    from = statements.length;
    expect((await store.remove(large.id))?.id).toBe(large.id);
    expect(writes(from)).toHaveLength(2); // the delete, then the notice without the input
    await until(() => removed.some((r) => r.id === small.id) && removed.some((r) => r.id === large.id));
    expect(removed.find((r) => r.id === small.id)?.result).toEqual({ ok: true });
    expect(removed.find((r) => r.id === large.id)?.input).toBeNull();
    expect(await store.get(small.id, NOW)).toBeUndefined();
    expect(await store.log(large.id, NOW)).toBeUndefined();
    expect(await store.remove(small.id)).toBeUndefined();
  });

  it('expire() removes the jobs expired by then, at most `limit`, soonest first, in one statement, and each removal is heard', async () => {
    const soon = await finishedJob(store, 1_000);
    const later = await finishedJob(store, 2_000);
    const kept = await finishedJob(store, 60_000);
    let from = statements.length;
    expect(await store.expire(NOW + 2 + 2_000, 1)).toEqual([soon.id]);
    expect(writes(from)).toHaveLength(1);
    from = statements.length;
    expect(await store.expire(NOW + 2 + 2_000, 10)).toEqual([later.id]);
    expect(writes(from)).toHaveLength(1);
    await until(() => removed.some((r) => r.id === soon.id) && removed.some((r) => r.id === later.id));
    expect(await store.get(kept.id, NOW)).toBeDefined();
    expect(await store.expire(NOW + 2 + 2_000, 10)).toEqual([]);
  });
});

describe.skipIf(!postgresUp)("PostgreSQL job store: a create adding the BullMQ job", () => {
  it("calls BullMQ's add_job only where it has the arguments this release knows; elsewhere a create inserts the record alone", async () => {
    const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
    const store = new PostgresJobStore(pool, prefix, 'entries', silentLogger);
    try {
      await store.migrate();
      // A schema with no such function (another BullMQ): no entry insert, and a create is the record's insert alone.
      expect(await queueEntryInsert(pool, () => [], 'jobwire')).toBeUndefined();
      let from = statements.length;
      const alone = newRecord();
      expect(await store.create(alone, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      expect(writes(from)).toHaveLength(1);
      expect(writes(from)[0]).not.toMatch(/add_job/);

      // BullMQ's schema: the entry is added in the create's statement, for a created job only.
      const queueName = `${prefix}-entries`;
      const migrated = new Queue(queueName, { connection: { connectionString: POSTGRES_URL, migrate: true }, prefix } as never, createPostgresBackend as never);
      await migrated.waitUntilReady();
      await migrated.close();
      const insert = await queueEntryInsert(pool, (record) => [queueName, record.id, 'p', JSON.stringify({ input: {} }), '{}', 0, 0, NOW, 1, null, null, null, null, null, false]);
      expect(insert).toBeDefined();
      store.addQueueEntries(insert!);
      from = statements.length;
      const record = newRecord('entry-key');
      expect(await store.create(record, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      expect(writes(from)).toHaveLength(1);
      expect(insert!.added.has(record)).toBe(true);
      const { rows } = await pool.query<{ id: string; state: string }>('SELECT id, state FROM bullmq.job WHERE queue = $1', [queueName]);
      expect(rows).toEqual([{ id: record.id, state: 'waiting' }]);
      // The same idempotency key again: the job exists, nothing is inserted, and BullMQ gets no second job.
      const again = newRecord('entry-key');
      const existing = await store.create(again, NOW, { maxQueued: Infinity, now: NOW });
      expect(existing.outcome === 'existing' && existing.record.id).toBe(record.id);
      expect(insert!.added.has(again)).toBe(false);
      expect((await pool.query('SELECT id FROM bullmq.job WHERE queue = $1', [queueName])).rows).toHaveLength(1);

      // BullMQ's function changed under a running process (a newer BullMQ migrated its schema): the
      // create that meets it goes in alone, as does every create after it.
      const gone: QueueEntryInsert = { call: (first) => `jobwire.no_such_add_job($${first}::text)`, args: () => ['x'], added: new WeakSet() };
      store.addQueueEntries(gone);
      const after = newRecord();
      expect(await store.create(after, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      expect(gone.added.has(after)).toBe(false);
      from = statements.length;
      expect(await store.create(newRecord(), NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      expect(writes(from)).toHaveLength(1);
      expect(writes(from)[0]).not.toMatch(/no_such_add_job/);
    } finally {
      await pool.end();
    }
  });

  it("stores the BullMQ job as BullMQ's own Queue.add stores it with the same data and options", async () => {
    const slow = definePlugin({ name: 'slow', input: z.object({ i: z.number() }), run: async () => ({ ok: true }) });
    const queueName = `${prefix}-same`;
    const backend = new BullMQBackend({ connection: POSTGRES_URL, queueName, prefix, role: 'producer' });
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(slow), backend, logger: silentLogger });
    const queue = new Queue(queueName, { connection: { connectionString: POSTGRES_URL }, prefix } as never, createPostgresBackend as never);
    const columns = 'name, state, data, opts, priority, delay_ms, max_attempts, process_at_ms - added_at_ms AS wait_ms';
    try {
      await backend.ready();
      // Delayed, with retries and a priority: every column add_job derives from the options.
      const job = await tracker.submit('slow', { i: 1 }, { priority: 3, attempts: 4, delayMs: 60_000 });
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 1 });
      try {
        const [row] = (await pool.query(`SELECT ${columns} FROM bullmq.job WHERE queue = $1 AND id = $2`, [queueName, job.id])).rows as Record<string, unknown>[];
        expect(row).toBeDefined();
        const copy = await queue.add(row!.name as string, row!.data, { ...(row!.opts as object), jobId: `${job.id}-copy` });
        const [own] = (await pool.query(`SELECT ${columns} FROM bullmq.job WHERE queue = $1 AND id = $2`, [queueName, copy.id])).rows as Record<string, unknown>[];
        expect({ ...row, opts: { ...(row!.opts as object), jobId: undefined } }).toEqual({ ...own, opts: { ...(own!.opts as object), jobId: undefined } });
        expect(row).toMatchObject({ state: 'delayed', max_attempts: 4 });
      } finally {
        await pool.end();
      }
    } finally {
      await tracker.close({ timeoutMs: 1_000 });
      await queue.close();
    }
  });
});
