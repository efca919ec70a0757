import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, StoreListQuery } from '../../src/backend/index.js';
import { RedisJobStore } from '../../src/bullmq/redis-store.js';
import { endedRecord, queuedRecord, startedRecord } from '../../src/engine/records.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: what a Redis store list reads — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');

const NOW = Date.UTC(2030, 0, 1);
/** Jobs in the queue, each with an input of {@link INPUT_BYTES}. */
const JOBS = 400;
const INPUT_BYTES = 20_000;
/** The positions (in submit order) of the jobs of plugin `rare`; every other job is of plugin `bulk`. */
const RARE = [10, 90, 170, 250, 330, 390];
/** Bytes a list may read for each record it returns: the input, the rest of the record, the reply's framing. */
const RECORD_BYTES = INPUT_BYTES + 1_000;
/** Bytes a list may read for each job it scans (its status, plugin, workspace and expiry, framed). */
const SCANNED_BYTES = 100;

/** The most a page of `returned` records may read when it scans `scanned` jobs. */
const bound = (returned: number, scanned: number): number => returned * RECORD_BYTES + scanned * SCANNED_BYTES;

function newJob(n: number, plugin: string): JobRecord {
  return queuedRecord(`b${n}x${Math.random().toString(36).slice(2, 8)}`, {
    plugin, input: { n, pad: 'x'.repeat(INPUT_BYTES) }, tenantId: undefined, workspaceId: 'w', metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey: undefined,
    attempts: undefined, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined,
  }, undefined, NOW);
}

describe.runIf(redisUp)('a Redis store list reads the records of the jobs it returns only', () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  let store: RedisJobStore;
  /** Bytes the store's connection received from Redis. */
  let received = 0;
  /** Ids newest first, and those of plugin `rare` newest first. */
  let newestFirst: string[] = [];
  let rareNewestFirst: string[] = [];
  /** The one `rare` job that ended (`completed`); the others stay `queued`. */
  let ended = '';

  beforeAll(async () => {
    redis = new Redis(REDIS_URL);
    await redis.ping();
    redis.stream.on('data', (chunk: Buffer) => {
      received += chunk.length;
    });
    store = new RedisJobStore(redis, prefix, 'bound');
    const jobs: JobRecord[] = [];
    for (let n = 0; n < JOBS; n++) jobs.push(newJob(n, RARE.includes(n) ? 'rare' : 'bulk'));
    for (const job of jobs) expect(await store.create(job, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
    const first = jobs[RARE[0]!]!;
    const started = startedRecord(first, NOW + 1);
    expect(await store.commit({ record: started, at: NOW + 1, replacesLast: false })).toEqual({ ok: true });
    expect(await store.commit({ record: endedRecord(started, 'completed', NOW + 2, 1_000, { result: { done: true } }), at: NOW + 2, replacesLast: false })).toEqual({ ok: true });
    ended = first.id;
    newestFirst = jobs.map((job) => job.id).reverse();
    rareNewestFirst = RARE.map((n) => jobs[n]!.id).reverse();
  }, 60_000);

  afterAll(async () => {
    await redis?.quit();
    await deleteKeys(prefix);
  });

  /** A page of the list, and the bytes Redis sent for it. */
  async function listed(query: Partial<StoreListQuery>): Promise<{ ids: string[]; nextCursor: string | undefined; bytes: number }> {
    const before = received;
    const page = await store.list({ tenantId: undefined, workspaceId: undefined, statuses: undefined, plugin: undefined, limit: 50, cursor: undefined, now: NOW, ...query });
    return { ids: page.records.map((record) => record.id), nextCursor: page.nextCursor, bytes: received - before };
  }

  it('a filter matching few of many large jobs: the bytes read are those of the matches, not of every job scanned', async () => {
    const page = await listed({ plugin: 'rare' });
    expect(page.ids).toEqual(rareNewestFirst);
    expect(page.nextCursor).toBeUndefined();
    // Six records, and a few dozen bytes for each of the 400 jobs scanned: not 400 records.
    expect(page.bytes).toBeGreaterThan(RARE.length * INPUT_BYTES);
    expect(page.bytes).toBeLessThan(bound(RARE.length, JOBS));
  });

  it('what the reconciler asks (queued jobs, a page at a time): each page reads its own records only, and the pages hold every match in order', async () => {
    const queued = rareNewestFirst.filter((id) => id !== ended);
    const ids: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await listed({ plugin: 'rare', statuses: new Set(['queued']), limit: 2, cursor });
      expect(page.ids.length).toBeLessThanOrEqual(2);
      expect(page.bytes).toBeLessThan(bound(page.ids.length, JOBS));
      ids.push(...page.ids);
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== undefined && pages < 10);
    expect(ids).toEqual(queued);
    expect(cursor).toBeUndefined();
  });

  it('no filter: a page of n reads n records (not the one after it, which only says that more follow)', async () => {
    const page = await listed({ limit: 3 });
    expect(page.ids).toEqual(newestFirst.slice(0, 3));
    expect(page.nextCursor).toBeDefined();
    expect(page.bytes).toBeGreaterThan(3 * INPUT_BYTES);
    expect(page.bytes).toBeLessThan(bound(3, 4));
    const next = await listed({ limit: 3, cursor: page.nextCursor });
    expect(next.ids).toEqual(newestFirst.slice(3, 6));
  });

  it('a status filter reads the records of the matches only (the ended job alone here)', async () => {
    const page = await listed({ statuses: new Set(['completed']) });
    expect(page.ids).toEqual([ended]);
    expect(page.bytes).toBeLessThan(bound(1, JOBS));
  });
});

describe.runIf(redisUp)('a Redis store list, when a job changes between reading its fields and reading its record', () => {
  const prefix = uniquePrefix();
  let redis: Redis;
  let other: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    other = new Redis(REDIS_URL);
  });

  afterAll(async () => {
    await redis?.quit();
    await other?.quit();
    await deleteKeys(prefix);
  });

  it('leaves out the job that no longer matches and fills the page with the next matches, in order', async () => {
    const store = new RedisJobStore(redis, prefix, 'race');
    const jobs = Array.from({ length: 6 }, (_, n) => newJob(n, 'p'));
    for (const job of jobs) expect(await store.create(job, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
    const newest = jobs.at(-1)!;
    // The first time the store reads records, another process starts the newest job just before.
    let fired = false;
    const pipeline = redis.pipeline.bind(redis);
    redis.pipeline = ((...args: Parameters<Redis['pipeline']>) => {
      const reads = pipeline(...args);
      let readsRecords = false;
      const hmget = reads.hmget.bind(reads) as (...fields: string[]) => typeof reads;
      (reads as unknown as { hmget: (...fields: string[]) => typeof reads }).hmget = (...fields) => {
        if (fields.includes('rec')) readsRecords = true;
        return hmget(...fields);
      };
      const exec = reads.exec.bind(reads);
      reads.exec = async (...execArgs) => {
        if (readsRecords && !fired) {
          fired = true;
          const started = await new RedisJobStore(other, prefix, 'race').commit({ record: startedRecord(newest, NOW + 1), at: NOW + 1, replacesLast: false });
          expect(started).toEqual({ ok: true });
        }
        return exec(...execArgs);
      };
      return reads;
    }) as Redis['pipeline'];

    const query = { tenantId: undefined, workspaceId: undefined, statuses: new Set(['queued'] as const), plugin: 'p', limit: 3, now: NOW };
    const first = await store.list({ ...query, cursor: undefined });
    expect(fired).toBe(true);
    expect(first.records.map((record) => record.id)).toEqual([jobs[4]!.id, jobs[3]!.id, jobs[2]!.id]);
    expect(first.records.every((record) => record.status === 'queued')).toBe(true);
    expect(first.nextCursor).toBeDefined();
    const second = await store.list({ ...query, cursor: first.nextCursor });
    expect(second.records.map((record) => record.id)).toEqual([jobs[1]!.id, jobs[0]!.id]);
    expect(second.nextCursor).toBeUndefined();
  });
});
