import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BusHandlers, JobBus, JobRecord, JobStore, LoggedEvent, OutputAppend } from '../../src/backend/index.js';
import { PostgresBus } from '../../src/bullmq/postgres-bus.js';
import { PostgresJobStore } from '../../src/bullmq/postgres-store.js';
import { RedisBus } from '../../src/bullmq/redis-bus.js';
import { RedisJobStore } from '../../src/bullmq/redis-store.js';
import { queuedRecord, startedRecord, progressedRecord, endedRecord } from '../../src/engine/records.js';
import { silentLogger } from '../../src/index.js';
import { until } from '../helpers/deferred.js';
import { POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { REDIS_URL, redisAnswers, uniquePrefix, deleteKeys } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ output store tests on Redis — no Redis answers on 127.0.0.1:6379');
const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ output store tests on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = uniquePrefix();

/** A store, its bus (subscribed), what the bus delivered, and a look at what the database holds for a job's output. */
interface Opened {
  store: JobStore;
  heard: LoggedEvent[];
  resyncs: () => number;
  /** How many output entries (batches) the database holds for the job. */
  outputEntries(id: string): Promise<number>;
  close(): Promise<void>;
}

interface Database {
  name: string;
  up: boolean;
  open(queue: string, options?: { holdReadBack?: Promise<void> }): Promise<Opened>;
  cleanup(): Promise<void>;
}

function recorder(): { handlers: BusHandlers; heard: LoggedEvent[]; resyncs: () => number } {
  const heard: LoggedEvent[] = [];
  let resyncs = 0;
  return { heard, resyncs: () => resyncs, handlers: { event: (event) => heard.push(event), removed: () => undefined, resync: () => void resyncs++ } };
}

const DATABASES: Database[] = [
  {
    name: 'Redis',
    up: redisUp,
    async open(queue) {
      const redis = new Redis(REDIS_URL);
      const store = new RedisJobStore(redis, prefix, queue);
      const bus: JobBus = new RedisBus(new Redis(REDIS_URL), store, silentLogger);
      const { handlers, heard, resyncs } = recorder();
      await bus.subscribe(handlers);
      return {
        store,
        heard,
        resyncs,
        outputEntries: (id) => redis.llen(`${store.base}out:${id}`),
        close: async () => {
          await bus.close();
          await redis.quit();
        },
      };
    },
    cleanup: () => deleteKeys(prefix),
  },
  {
    name: 'PostgreSQL',
    up: postgresUp,
    async open(queue, options) {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 3 });
      const hold = options?.holdReadBack;
      // A store whose read-back of a large batch can be held (to drop the batch meanwhile).
      const store = new (class extends PostgresJobStore {
        override async outputBatch(id: string, start: number): Promise<string | undefined> {
          await hold;
          return super.outputBatch(id, start);
        }
      })(pool, prefix, queue, silentLogger);
      await store.migrate();
      const bus = new PostgresBus((config) => new pg.Client(config), POSTGRES_URL, store, silentLogger);
      const { handlers, heard, resyncs } = recorder();
      await bus.subscribe(handlers);
      return {
        store,
        heard,
        resyncs,
        outputEntries: async (id) => Number((await pool.query<{ n: string }>('SELECT count(*) AS n FROM jobwire.job_output WHERE queue = $1 AND job_id = $2', [store.queue, id])).rows[0]?.n),
        close: async () => {
          await bus.close();
          await pool.end();
        },
      };
    },
    async cleanup() {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        for (const table of ['job_output', 'job_events', 'job_records']) await client.query(`DELETE FROM jobwire.${table} WHERE queue LIKE $1`, [`${prefix}%`]);
      } finally {
        await client.end();
      }
    },
  },
];

let ids = 0;
const NOW = Date.UTC(2030, 0, 1);

/** A new job, created in the store, started: its record (seq 2). */
async function runningJob(store: JobStore): Promise<JobRecord> {
  const queued = queuedRecord(`job${++ids}x${Math.random().toString(36).slice(2, 10)}`, {
    plugin: 'p', input: {}, tenantId: undefined, workspaceId: undefined, metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey: undefined,
    attempts: undefined, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined,
  }, undefined, NOW);
  expect(await store.create(queued, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
  const started = startedRecord(queued, NOW + 1);
  expect(await store.commit({ record: started, at: NOW + 1, replacesLast: false })).toEqual({ ok: true });
  return started;
}

/** A batch of `values` after `afterSeq`. */
function batch(jobId: string, afterSeq: number, values: unknown[], limitBytes = 1_048_576, at = NOW + 2): OutputAppend {
  return { jobId, afterSeq, at, limitBytes, chunks: values.map((value) => ({ value, json: JSON.stringify(value) })) };
}

/** The log as plain events. */
async function logOf(store: JobStore, id: string): Promise<unknown[]> {
  return ((await store.log(id, NOW)) ?? []).map((event) => event.event());
}

const ODD = ['', 'plain', 'line\nbreak\r\nand\rcr', 'nul\u0000byte', 'lone \ud800 high', 'lone \udc00 low', 'emoji 😀', '"quoted" \\ back', '{"not":"json"}', '<b>html</b>'];

describe.each(DATABASES)('BullMQ job store on $name: output', (database) => {
  let db: Opened;
  const queue = `${prefix}-out-${database.name}`;

  beforeAll(async () => {
    if (database.up) db = await database.open(queue);
  });
  afterAll(async () => {
    await db?.close();
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)('appends chunks as output events in the job’s log, moves the seq on, and delivers each chunk once, in order', async () => {
    const job = await runningJob(db.store);
    const values = ['a', 'b', { n: 1, list: [1, 2, null], nested: { ok: true } }, 42, null, true, [], {}];
    expect(await db.store.append(batch(job.id, 2, values.slice(0, 3)))).toEqual({ ok: true });
    expect(await db.store.append(batch(job.id, 5, values.slice(3)))).toEqual({ ok: true });
    const log = await logOf(db.store, job.id);
    expect(log.map((e) => (e as { type: string }).type)).toEqual(['queued', 'started', ...values.map(() => 'output')]);
    expect(log.slice(2)).toEqual(values.map((chunk, i) => ({ seq: 3 + i, type: 'output', jobId: job.id, at: new Date(NOW + 2).toISOString(), chunk })));
    // get and list say the last event is output, at the last chunk's seq; the rest is the record as committed.
    const current = await db.store.get(job.id, NOW);
    expect(current).toEqual({ ...JSON.parse(JSON.stringify(job)), seq: 10, event: 'output' });
    const listed = (await db.store.list({ tenantId: undefined, workspaceId: undefined, statuses: undefined, plugin: undefined, limit: 100, cursor: undefined, now: NOW })).records;
    expect(listed.find((record) => record.id === job.id)).toEqual(current);
    await until(() => db.heard.filter((e) => e.jobId === job.id).length >= 10, 5_000, 'the bus to deliver the chunks');
    const heard = db.heard.filter((e) => e.jobId === job.id);
    expect(heard.map((e) => [e.seq, e.type])).toEqual([[1, 'queued'], [2, 'started'], ...values.map((_, i) => [3 + i, 'output'])]);
    expect(heard.slice(2).map((e) => (e.event() as { chunk: unknown }).chunk)).toEqual(values);
  });

  it.skipIf(!database.up)('any string round-trips: CR, LF, NUL, lone surrogates', async () => {
    const job = await runningJob(db.store);
    expect(await db.store.append(batch(job.id, 2, ODD))).toEqual({ ok: true });
    const log = await logOf(db.store, job.id);
    expect(log.slice(2).map((e) => (e as { chunk: unknown }).chunk)).toEqual(ODD);
    await until(() => db.heard.filter((e) => e.jobId === job.id).length >= 2 + ODD.length, 5_000, 'the bus to deliver the chunks');
    expect(db.heard.filter((e) => e.jobId === job.id && e.type === 'output').map((e) => (e.event() as { chunk: unknown }).chunk)).toEqual(ODD);
  });

  it.skipIf(!database.up)('compare-and-set: a stale append or commit writes nothing and gets the record as it is now; a commit after the output goes on from its seq', async () => {
    const job = await runningJob(db.store);
    expect(await db.store.append(batch(job.id, 2, ['x', 'y']))).toEqual({ ok: true });
    const now = { ...JSON.parse(JSON.stringify(job)), seq: 4, event: 'output' };
    // Two writers from seq 2: the second loses.
    expect(await db.store.append(batch(job.id, 2, ['lost']))).toEqual({ ok: false, current: now });
    expect(await db.store.commit({ record: progressedRecord(job, 50, 'half'), at: NOW + 3, replacesLast: false })).toEqual({ ok: false, current: now });
    // The engine's next status record follows the output.
    const progressed = { ...progressedRecord(job, 50, 'half'), seq: 5 };
    expect(await db.store.commit({ record: progressed, at: NOW + 3, replacesLast: false })).toEqual({ ok: true });
    expect(await db.store.get(job.id, NOW)).toEqual(JSON.parse(JSON.stringify(progressed)));
    expect(await db.store.append(batch(job.id, 5, ['z']))).toEqual({ ok: true });
    const ended = { ...endedRecord({ ...progressed, seq: 6 }, 'completed', NOW + 4, 60_000, { result: 1 }) };
    expect(await db.store.commit({ record: ended, at: NOW + 4, replacesLast: false })).toEqual({ ok: true });
    const log = await logOf(db.store, job.id);
    expect(log.map((e) => [(e as { seq: number }).seq, (e as { type: string }).type])).toEqual([[1, 'queued'], [2, 'started'], [3, 'output'], [4, 'output'], [5, 'progress'], [6, 'output'], [7, 'completed']]);
    expect(await db.store.append(batch('no-such-job', 2, ['x']))).toEqual({ ok: false, current: undefined });
  });

  it.skipIf(!database.up)('drops the oldest output past limitBytes and says so with one gap at the last seq dropped; status events stay', async () => {
    const job = await runningJob(db.store);
    const limit = 300; // each chunk below is '"nn"': 4 bytes, 68 with the chunk cost
    let seq = 2;
    const written: string[] = [];
    for (let round = 0; round < 6; round++) {
      const values = [`${round}a`, `${round}b`];
      written.push(...values);
      expect(await db.store.append(batch(job.id, seq, values, limit))).toEqual({ ok: true });
      seq += 2;
      if (round === 2) {
        const progressed = { ...progressedRecord(job, 10, 'p'), seq: seq + 1 };
        expect(await db.store.commit({ record: progressed, at: NOW + 3, replacesLast: false })).toEqual({ ok: true });
        seq++;
      }
    }
    // 12 chunks of 68 in batches of 136: the newest two batches fit (272), not three (408).
    const log = (await logOf(db.store, job.id)) as { seq: number; type: string; chunk?: string; fromSeq?: number; toSeq?: number }[];
    expect(log.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'gap', 'output', 'output', 'output', 'output']);
    expect(log.find((e) => e.type === 'gap')).toMatchObject({ fromSeq: 3, toSeq: 11, seq: 11 });
    expect(log.filter((e) => e.type === 'output').map((e) => e.chunk)).toEqual(written.slice(-4));
    expect(log.find((e) => e.type === 'progress')?.seq).toBe(9);
    expect(await db.outputEntries(job.id)).toBe(2);
  });

  it.skipIf(!database.up)('a batch alone past the limit keeps its newest chunks that fit, and drops every older one', async () => {
    const job = await runningJob(db.store);
    // With the chunk cost: 'old' counts 5 + 64, each two-letter chunk 4 + 64; the limit is 210.
    expect(await db.store.append(batch(job.id, 2, ['old'], 210))).toEqual({ ok: true });
    expect(await db.store.append(batch(job.id, 3, ['a1', 'b2', 'c3', 'd4'], 210))).toEqual({ ok: true }); // 4 × 68: the last 3 fit
    const log = (await logOf(db.store, job.id)) as { type: string; chunk?: string; fromSeq?: number; toSeq?: number }[];
    expect(log.slice(2)).toEqual([
      expect.objectContaining({ type: 'gap', fromSeq: 3, toSeq: 4, seq: 4 }),
      ...['b2', 'c3', 'd4'].map((chunk) => expect.objectContaining({ type: 'output', chunk })),
    ]);
    // Even its last chunk alone is past the limit: nothing is kept, the gap covers it.
    expect(await db.store.append(batch(job.id, 7, ['x'.repeat(200)], 210))).toEqual({ ok: true });
    expect(((await logOf(db.store, job.id)) as { type: string }[]).slice(2)).toEqual([expect.objectContaining({ type: 'gap', fromSeq: 3, toSeq: 8, seq: 8 })]);
    expect(await db.outputEntries(job.id)).toBe(0);
    expect((await db.store.get(job.id, NOW))?.seq).toBe(8);
  });

  it.skipIf(!database.up)('remove and expire delete the output with the job', async () => {
    const removed = await runningJob(db.store);
    expect(await db.store.append(batch(removed.id, 2, ['x']))).toEqual({ ok: true });
    expect(await db.store.remove(removed.id)).toMatchObject({ id: removed.id, seq: 3, event: 'output' });
    expect(await db.outputEntries(removed.id)).toBe(0);
    expect(await db.store.log(removed.id, NOW)).toBeUndefined();

    const expiring = await runningJob(db.store);
    expect(await db.store.append(batch(expiring.id, 2, ['x']))).toEqual({ ok: true });
    const ended = endedRecord({ ...expiring, seq: 3 }, 'completed', NOW + 5, 1, { result: null });
    expect(await db.store.commit({ record: ended, at: NOW + 5, replacesLast: false })).toEqual({ ok: true });
    expect(await db.store.expire(NOW + 10, 100)).toContain(expiring.id);
    expect(await db.outputEntries(expiring.id)).toBe(0);
  });

  it.skipIf(!database.up)('a large batch reaches the bus whole and in order', async () => {
    const job = await runningJob(db.store);
    const big = Array.from({ length: 50 }, (_, i) => `${i}:${'é'.repeat(500)}\u0000`); // far past one NOTIFY payload
    expect(await db.store.append(batch(job.id, 2, big))).toEqual({ ok: true });
    expect(await db.store.append(batch(job.id, 52, ['after']))).toEqual({ ok: true });
    await until(() => db.heard.filter((e) => e.jobId === job.id).length >= 53, 5_000, 'the bus to deliver the chunks');
    const heard = db.heard.filter((e) => e.jobId === job.id && e.type === 'output');
    expect(heard.map((e) => e.seq)).toEqual(Array.from({ length: 51 }, (_, i) => 3 + i));
    expect(heard.map((e) => (e.event() as { chunk: unknown }).chunk)).toEqual([...big, 'after']);
  });
});

describe.runIf(postgresUp)('BullMQ job store on PostgreSQL: a large batch dropped before its notification is read', () => {
  it('asks readers to resync (they find the gap in the log) instead of delivering nothing', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const db = await DATABASES[1]!.open(`${prefix}-out-held`, { holdReadBack: held });
    try {
      const job = await runningJob(db.store);
      const big = Array.from({ length: 20 }, (_, i) => `${i}:${'x'.repeat(1_000)}`);
      expect(await db.store.append(batch(job.id, 2, big, 30_000))).toEqual({ ok: true });
      expect(await db.store.append(batch(job.id, 22, big, 30_000))).toEqual({ ok: true }); // drops the first
      release();
      await until(() => db.resyncs() > 0, 5_000, 'a resync');
      await until(() => db.heard.filter((e) => e.jobId === job.id && e.type === 'output').length === 20, 5_000, 'the second batch');
      expect(db.heard.filter((e) => e.jobId === job.id && e.type === 'output').map((e) => e.seq)).toEqual(Array.from({ length: 20 }, (_, i) => 23 + i));
      const log = (await logOf(db.store, job.id)) as { type: string; fromSeq?: number; toSeq?: number }[];
      expect(log[2]).toMatchObject({ type: 'gap', fromSeq: 3, toSeq: 22 });
    } finally {
      await db.close();
      await DATABASES[1]!.cleanup();
    }
  });
});
