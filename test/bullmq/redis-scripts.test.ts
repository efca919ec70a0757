import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord, OutputAppend } from '../../src/backend/index.js';
import { RedisJobStore } from '../../src/bullmq/redis-store.js';
import { endedRecord, queuedRecord, startedRecord } from '../../src/engine/records.js';
import { LUA_DIR, SCRIPTS_MODULE, scriptsModule } from '../../scripts/redis-scripts.js';
import { until } from '../helpers/deferred.js';
import { canStartRedis, startPrivateRedis, type PrivateRedis } from '../faults/private-redis.js';

const luaFiles = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'));

describe('the Redis store’s Lua scripts', () => {
  it('src/bullmq/redis-scripts.ts is written from the Lua files as they are now (else run `npx tsx scripts/redis-scripts.ts`)', () => {
    expect(luaFiles.length).toBeGreaterThanOrEqual(4);
    const fresh = readFileSync(SCRIPTS_MODULE, 'utf8') === scriptsModule();
    expect(fresh, 'src/bullmq/redis-scripts.ts is older than src/bullmq/lua: run `npx tsx scripts/redis-scripts.ts`').toBe(true);
  });

  it.each(luaFiles)('%s says at its top which KEYS and ARGV it takes, and uses no KEYS[n] it does not list', (file) => {
    const lua = readFileSync(join(LUA_DIR, file), 'utf8');
    const header = /^--\[\[([\s\S]*?)\]\]/.exec(lua)?.[1];
    expect(header, 'a --[[ … ]] comment first').toBeDefined();
    expect(header).toMatch(/^\s*KEYS\[1\]/m);
    expect(header).toMatch(/^\s*ARGV\[1\]/m);
    const code = lua.slice(lua.indexOf(']]') + 2);
    for (const [, n] of code.matchAll(/KEYS\[(\d+)\]/g)) expect(header, `KEYS[${n}] is listed`).toMatch(new RegExp(`^\\s*KEYS\\[${n}\\]`, 'm'));
  });
});

const canStart = await canStartRedis();
if (!canStart) console.warn('SKIPPED: which keys the Redis scripts touch — redis-server is not installed (the test watches one of its own)');

/** The key arguments of a command a script ran (the commands the scripts use). */
function keysOf(args: string[]): string[] {
  const command = args[0]!.toLowerCase();
  if (command === 'publish' || command === 'spublish') return []; // a channel, not a key
  if (command === 'del') return args.slice(1);
  return [args[1]!];
}

const NOW = Date.UTC(2030, 0, 1);
let ids = 0;

/** A queued record (with a tenant and an idempotency key when given). */
function newJob(tenantId?: string, idempotencyKey?: string): JobRecord {
  return queuedRecord(`k${++ids}x${Math.random().toString(36).slice(2, 8)}`, {
    plugin: 'p', input: { n: ids }, tenantId, workspaceId: 'w', metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey,
    attempts: undefined, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined,
  }, undefined, NOW);
}

function batch(jobId: string, afterSeq: number, values: string[], limitBytes: number): OutputAppend {
  return { jobId, afterSeq, at: NOW + 2, limitBytes, chunks: values.map((value) => ({ value, json: JSON.stringify(value) })) };
}

describe.runIf(canStart)('the Redis store on a watched redis-server', () => {
  let server: PrivateRedis;
  beforeAll(async () => {
    server = await startPrivateRedis({ persistent: false });
  });
  afterAll(async () => {
    await server?.dispose();
  });

  it('every key a script touches is among the KEYS it was given, and every key of a queue carries the queue’s hash tag', async () => {
    const queue = 'media';
    const redis = new Redis(server.url);
    const watcher = new Redis(server.url);
    const monitor = await watcher.monitor();
    /** Per script run: the KEYS it was given and the keys its commands touched. */
    const runs: { declared: string[]; touched: string[] }[] = [];
    /** Keys the store's own commands (outside scripts) named. */
    const direct: string[] = [];
    let ended = false;
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      const command = args[0]!.toLowerCase();
      if (command === 'echo') ended = true;
      else if (source === 'lua') runs.at(-1)?.touched.push(...keysOf(args));
      else if (command === 'eval' || command === 'evalsha') runs.push({ declared: args.slice(3, 3 + Number(args[2])), touched: [] });
      else if (!['multi', 'exec', 'ping', 'info', 'select', 'client', 'script'].includes(command)) direct.push(...(command === 'zrevrangebyscore' || command === 'zrangebyscore' || command === 'zcount' ? [args[1]!] : keysOf(args)));
    });
    const store = new RedisJobStore(redis, 'jw', queue);
    try {
      // Every path of every script: create (tenant, idempotency key, a second create with the same
      // key, a full queue), commit, append past the limit, list, remove, expire.
      const first = newJob('t1', 'once');
      expect(await store.create(first, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      expect(await store.create(newJob('t1', 'once'), NOW, { maxQueued: Infinity, now: NOW })).toMatchObject({ outcome: 'existing', record: { id: first.id } });
      expect(await store.create(newJob(), NOW, { maxQueued: 1, now: NOW })).toEqual({ outcome: 'full' });
      const plain = newJob();
      expect(await store.create(plain, NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      const started = startedRecord(first, NOW + 1);
      expect(await store.commit({ record: started, at: NOW + 1, replacesLast: false })).toEqual({ ok: true });
      expect(await store.append(batch(first.id, 2, ['aaaa', 'bbbb'], 1_000))).toEqual({ ok: true });
      expect(await store.append(batch(first.id, 4, ['c'.repeat(200), 'd'.repeat(200)], 300))).toEqual({ ok: true });
      const completed = endedRecord({ ...started, seq: 6 }, 'completed', NOW + 3, 1_000, { result: 1 });
      expect(await store.commit({ record: completed, at: NOW + 3, replacesLast: false })).toEqual({ ok: true });
      const listed = await store.list({ tenantId: 't1', workspaceId: 'w', statuses: new Set(['completed']), plugin: 'p', limit: 10, cursor: undefined, now: NOW });
      expect(listed.records.map((record) => record.id)).toEqual([first.id]);
      expect(await store.remove(plain.id)).toMatchObject({ id: plain.id });
      expect(await store.expire(NOW + 10_000, 100)).toEqual([first.id]);
      // The idempotency key went with its job: the same key creates again.
      expect(await store.create(newJob('t1', 'once'), NOW, { maxQueued: Infinity, now: NOW })).toEqual({ outcome: 'created' });
      await redis.echo('end');
      await until(() => ended, 5_000, 'the monitor to see the end of the work');

      expect(runs.length).toBeGreaterThanOrEqual(11);
      for (const run of runs) {
        expect(run.touched.length).toBeGreaterThan(0);
        for (const key of run.touched) expect(run.declared, `${key} is declared`).toContain(key);
      }
      const keys = [...runs.flatMap((run) => [...run.declared, ...run.touched]), ...direct];
      expect(keys.length).toBeGreaterThan(50);
      for (const key of keys) expect(key.startsWith(`jw:{${queue}}:jw:`), key).toBe(true);
    } finally {
      await watcher.quit();
      await redis.quit();
    }
  });
});
