import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { isJobwireError, JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createJobRoutes } from '../../src/http/index.js';
import { createFixturePlugins, type FixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { canStartRedis, startPrivateRedis, type PrivateRedis } from './private-redis.js';

const redisAvailable = await canStartRedis();
if (!redisAvailable) console.warn('SKIPPED: Redis outage fault tests — redis-server cannot be started here');

const code = (error: unknown): string | undefined => (isJobwireError(error) ? error.code : `not a JobwireError: ${String(error)}`);

describe.skipIf(!redisAvailable)('faults: Redis outages (a private redis-server, paused and crashed)', () => {
  let redis: PrivateRedis | undefined;
  let tracker: JobTracker | undefined;
  let fx: FixturePlugins;

  function open(url: string): JobTracker {
    fx = createFixturePlugins();
    tracker = new JobTracker({
      plugins: fx.plugins,
      storeTimeoutMs: 500,
      backend: new BullMQBackend({ connection: url, queueName: 'faults', role: 'both', concurrency: 2, stalled: { lockDurationMs: 2_000, stalledIntervalMs: 1_000 } }),
    });
    return tracker;
  }

  // Closing right after a Redis restart reconnects BullMQ's connections first: on a loaded machine
  // that takes longer than the default hook bound, which is only there to end a hang.
  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 }).catch(() => undefined); // the outage may still be on
    tracker = undefined;
    await redis?.dispose();
    redis = undefined;
  }, 90_000);

  it('CLIENT PAUSE: requests fail fast with UNAVAILABLE (HTTP 503) after the bound, and work again after', async () => {
    redis = await startPrivateRedis({ persistent: false });
    const t = open(redis.url);
    const routes = createJobRoutes(t);
    const done = await t.wait((await t.submit('echo', { text: 'before' })).id, { timeoutMs: 10_000 });
    const admin = new Redis(redis.url);
    const pauseMs = 8_000;
    await admin.call('CLIENT', 'PAUSE', String(pauseMs), 'ALL');
    const pausedUntil = Date.now() + pauseMs;
    try {
      expect(code(await t.get(done.id).then(() => 'answered', (error: unknown) => error))).toBe('UNAVAILABLE');
      const response = await routes(new Request(`http://jobs.test/jobs/${done.id}`));
      expect(response?.status).toBe(503);
      expect(await response?.json()).toMatchObject({ error: { code: 'UNAVAILABLE' } });
      expect(code(await t.list().then(() => 'answered', (error: unknown) => error))).toBe('UNAVAILABLE');
      // Both answered while Redis still held every command: failing fast, not waiting out the outage.
      expect(Date.now()).toBeLessThan(pausedUntil);
    } finally {
      admin.disconnect();
    }
    await until(async () => (await t.get(done.id).catch(() => undefined))?.status === 'completed', 20_000, 'reads to work again after the pause');
    expect((await t.wait((await t.submit('echo', { text: 'after' })).id, { timeoutMs: 10_000 })).status).toBe('completed');
  }, 60_000);

  it('a crash and restart of a Redis run with an append-only file: no accepted job is lost; requests fail fast meanwhile', async () => {
    redis = await startPrivateRedis({ persistent: true });
    const t = open(redis.url);
    const accepted: string[] = [];
    for (let i = 0; i < 20; i++) accepted.push((await t.submit('gate', { key: 'held', tag: `job${i}` })).id);
    await until(async () => (await t.stats()).running === 2, 10_000, 'two jobs to run');
    await redis.kill();
    expect(code(await t.get(accepted[0]!).then(() => 'answered', (error: unknown) => error))).toBe('UNAVAILABLE');
    await redis.restart();
    await until(async () => (await t.stats().catch(() => undefined))?.total === 20, 30_000, 'every accepted job to be there after the restart');
    fx.open('held');
    for (const id of accepted) expect((await t.wait(id, { timeoutMs: 60_000 })).status, id).toBe('completed');
  }, 120_000);

  it('a worker closed while Redis is down closes anyway and its process exits by itself (no connection or reconnect timer left)', async () => {
    redis = await startPrivateRedis({ persistent: false });
    const child = fork(resolve(import.meta.dirname, 'fixtures/fault-worker.ts'), [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, CONNECTION: redis.url, QUEUE_NAME: 'faults', PREFIX: 'jobwire' },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (exitCode, signal) => done({ code: exitCode, signal })));
    let ready = false;
    child.on('message', (message: { type?: string }) => {
      if (message.type === 'ready') ready = true;
    });
    try {
      await until(() => ready, 30_000, 'the worker to start');
      await redis.kill();
      child.send({ type: 'close' });
      // Bounded only so that a hang fails here rather than at the test's timeout: closing takes a few seconds.
      const exit = await Promise.race([exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 45_000))]);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
