import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { createPostgresBackend, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTracker, type JobSnapshot, type JobStatusEvent, type ScheduleOptions } from '../../src/index.js';
import type { JobStore } from '../../src/backend/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { PostgresJobStore } from '../../src/bullmq/postgres-store.js';
import { RedisJobStore } from '../../src/bullmq/redis-store.js';
import { collect, until } from '../helpers/deferred.js';
import { statusEvent } from '../helpers/events.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { createPlugins } from './fixtures/plugins.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ multi-process tests on Redis — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');
const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ multi-process tests on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');

interface WorkerMessage {
  type: 'ready' | 'started' | 'aborted' | 'closed' | 'tick';
  pid?: number;
  jobId?: string;
  /** Of `started`: the try (`ctx.attempt`). */
  attempt?: number;
  /** Of `tick` (a tick the worker's engine handled, as it logs it): the schedule's key, and the tick's time. */
  schedule?: string;
  at?: number;
}

interface WorkerProcess {
  child: ChildProcess;
  messages: WorkerMessage[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const prefix = uniquePrefix();

/** The two databases BullMQ runs on here; every test below runs on each. */
const DATABASES = [
  {
    name: 'Redis',
    url: REDIS_URL,
    up: redisUp,
    cleanup: () => deleteKeys(prefix),
    /** A raw BullMQ queue, to look into it. */
    queue: (name: string): Queue => new Queue(name, { connection: { host: '127.0.0.1', port: 6379 }, prefix }),
    /** The queue's job store, read directly (what a record holds beyond its snapshot), and how to let it go. */
    store: (queue: string): { store: JobStore; close: () => Promise<unknown> } => {
      const redis = new Redis(REDIS_URL);
      return { store: new RedisJobStore(redis, prefix, queue), close: () => redis.quit() };
    },
  },
  {
    name: 'PostgreSQL',
    url: POSTGRES_URL,
    up: postgresUp,
    cleanup: () => deleteQueues(prefix),
    queue: (name: string): Queue => new Queue(name, { connection: { connectionString: POSTGRES_URL }, prefix } as never, createPostgresBackend as never) as unknown as Queue,
    store: (queue: string): { store: JobStore; close: () => Promise<unknown> } => {
      const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });
      return { store: new PostgresJobStore(pool, prefix, queue, console), close: () => pool.end() };
    },
  },
];

let connection = REDIS_URL;
let queueName = '';

async function startWorker(queue = queueName): Promise<WorkerProcess> {
  const child = fork(resolve(import.meta.dirname, 'fixtures/worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CONNECTION: connection, QUEUE_NAME: queue, PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: WorkerMessage[] = [];
  child.on('message', (message: WorkerMessage) => messages.push(message));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await until(() => messages.some((m) => m.type === 'ready'), 20_000, 'a worker to start');
  return { child, messages, exited };
}

/** An API process (test/bullmq/fixtures/producer.ts): a producer tracker in a process of its own. */
interface ApiProcess {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Upsert a schedule there; resolves once it is saved. */
  schedule(key: string, spec: ScheduleOptions): Promise<void>;
}

async function startApi(queue = queueName): Promise<ApiProcess> {
  const child = fork(resolve(import.meta.dirname, 'fixtures/producer.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CONNECTION: connection, QUEUE_NAME: queue, PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const messages: { type: string; id?: number; message?: string }[] = [];
  child.on('message', (message: { type: string; id?: number; message?: string }) => messages.push(message));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await until(() => messages.some((m) => m.type === 'ready'), 20_000, 'an API process to start');
  let requests = 0;
  const schedule = async (key: string, spec: ScheduleOptions): Promise<void> => {
    const id = ++requests;
    child.send({ type: 'schedule', id, key, spec });
    await until(() => messages.some((m) => m.id === id), 30_000, `the API process ${child.pid} to save the schedule`);
    const answer = messages.find((m) => m.id === id)!;
    if (answer.type !== 'scheduled') throw new Error(`the API process ${child.pid} could not save the schedule: ${answer.message}`);
  };
  return { child, exited, schedule };
}

/** Close a worker or API process the way it shuts down in production: it must exit by itself, with 0. */
async function stop(proc: { child: ChildProcess; exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }> }): Promise<void> {
  proc.child.send({ type: 'close' });
  const exit = await Promise.race([proc.exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 20_000))]);
  expect(exit).toEqual({ code: 0, signal: null });
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

function producer(queue = queueName): JobTracker {
  return new JobTracker({ plugins: createPlugins(), backend: new BullMQBackend({ connection, queueName: queue, prefix, role: 'producer' }) });
}

/** The pid in a `pid N` progress message. */
const pidOfMessage = (message: string | undefined): number | undefined => {
  const match = /^pid (\d+)$/.exec(message ?? '');
  return match ? Number(match[1]) : undefined;
};
const pidOf = (event: JobStatusEvent): number | undefined => pidOfMessage(event.job.message);

describe.each(DATABASES)('BullMQ backend across processes on $name (forked workers)', (database) => {
  let workers: WorkerProcess[] = [];
  let apiA: JobTracker;
  let apiB: JobTracker;

  beforeAll(async () => {
    if (!database.up) return;
    connection = database.url;
    queueName = `${prefix}-multi-${database.name}`; // BullMQ on PostgreSQL keys queues by name alone
    workers = await Promise.all([startWorker(), startWorker()]);
    apiA = producer();
    apiB = producer();
  }, 60_000);

  afterAll(async () => {
    await Promise.all([apiA?.close(), apiB?.close()]);
    for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)('jobs submitted by one API process run in the workers; another API process sees the same jobs and events', async () => {
    // Four jobs that wait to be released: a worker runs two at a time, so four running means two each.
    const jobs = await Promise.all(Array.from({ length: 4 }, () => apiA.submit('gated', {})));
    const runningOn = async (): Promise<(number | undefined)[]> => (await Promise.all(jobs.map((job) => apiB.get(job.id)))).map((job) => (job?.status === 'running' ? pidOfMessage(job.message) : undefined));
    await until(async () => (await runningOn()).every((pid) => pid !== undefined), 30_000, 'all four jobs to run');
    const pids = (await runningOn()) as number[];
    expect([...new Set(pids)].sort()).toEqual(workers.map((w) => w.child.pid).sort()); // both workers took jobs
    for (const job of jobs) for (const worker of workers) worker.child.send({ type: 'release', jobId: job.id });
    const done = await Promise.all(jobs.map((job) => apiB.wait(job.id, { timeoutMs: 30_000 })));
    expect(done.every((job) => job.status === 'completed')).toBe(true);
    expect(done.map((job) => (job.result as { pid: number }).pid)).toEqual(pids);
    const listed = await apiB.list({ status: 'completed', limit: 100 });
    expect(listed.jobs.map((j) => j.id)).toEqual(expect.arrayContaining(jobs.map((j) => j.id)));
    // Replay after a seq, from the other process (what SSE Last-Event-ID does).
    const all = await collect(apiB.events(jobs[0]!.id));
    expect(all[0]?.type).toBe('queued');
    expect(all.at(-1)?.type).toBe('completed');
    expect(await collect(apiA.events(jobs[0]!.id, { afterSeq: 2 }))).toEqual(all.filter((e) => e.seq > 2));
  });

  it.skipIf(!database.up)("a plugin's concurrency cap holds over every worker process; its waiting jobs wait in its queue, held by no worker", async () => {
    // Two workers of two slots each; `single` is capped at 1.
    const capped = await Promise.all(Array.from({ length: 3 }, () => apiA.submit('single', {})));
    const running = async (): Promise<JobSnapshot[]> => (await Promise.all(capped.map((job) => apiB.get(job.id)))).filter((job): job is JobSnapshot => job?.status === 'running');
    const queue = database.queue(`${queueName}.single`);
    try {
      for (let round = 0; round < capped.length; round++) {
        let now: JobSnapshot[] = [];
        await until(async () => (now = await running()).length > 0, 30_000, `capped job ${round + 1} to run`);
        expect(now).toHaveLength(1);
        const counts = await queue.getJobCounts('active', 'waiting', 'prioritized');
        expect(counts.active).toBe(1);
        expect((counts.waiting ?? 0) + (counts.prioritized ?? 0)).toBe(capped.length - round - 1);
        for (const worker of workers) worker.child.send({ type: 'release', jobId: now[0]!.id });
        expect((await apiB.wait(now[0]!.id, { timeoutMs: 30_000 })).status).toBe('completed');
      }
    } finally {
      await queue.close();
    }
    // Each started after the one before it ended, whichever worker ran it.
    const done = (await Promise.all(capped.map((job) => apiB.get(job.id)))).map((job) => ({ started: Date.parse(job!.startedAt!), finished: Date.parse(job!.finishedAt!) }));
    done.sort((a, b) => a.started - b.started);
    for (let i = 1; i < done.length; i++) expect(done[i]!.started).toBeGreaterThanOrEqual(done[i - 1]!.finished);
  }, 90_000);

  it.skipIf(!database.up)('a live reader in one API process gets every event of a job submitted by another, in seq order', async () => {
    const job = await apiA.submit('sleepy', { ms: 400, stepMs: 40 });
    const events = await collect(apiB.events(job.id));
    // Every event the job had, none missed (seq counts each one), in order. How many progress events
    // there were depends on load (reports made while one is in flight coalesce), not on the reader.
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events[0]?.type).toBe('queued');
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events.at(-1)).toMatchObject({ type: 'completed', job: { progress: 100 } });
  });

  it.skipIf(!database.up)('cancel in an API process aborts the plugin in the worker that runs it, and the job ends cancelled', async () => {
    // How fast is for bench/ (it measures cancel latency); here: that it arrives, every time.
    for (let round = 0; round < 5; round++) {
      const job = await apiA.submit('gated', {});
      let pid: number | undefined;
      await until(async () => (pid = pidOfMessage((await apiB.get(job.id))?.message)) !== undefined, 30_000, 'the plugin to run');
      const cancelled = await apiB.cancel(job.id, 'no longer needed');
      expect(cancelled.status).toBe('cancelled');
      const runner = workers.find((w) => w.child.pid === pid)!;
      await until(() => runner.messages.some((m) => m.type === 'aborted' && m.jobId === job.id), 15_000, 'the abort to reach the plugin');
      expect((await apiA.wait(job.id)).error).toEqual({ code: 'CANCELLED', message: 'no longer needed' });
    }
  }, 60_000);

  it.skipIf(!database.up)('a cancel sent the moment a job starts still reaches its plugin (no gap between claim and abort)', async () => {
    for (let round = 0; round < 10; round++) {
      const job = await apiA.submit('sleepy', { ms: 30_000 });
      for await (const event of apiB.events(job.id)) {
        if (event.type !== 'started') continue;
        await apiB.cancel(job.id, 'at once');
        break;
      }
      await until(() => workers.flatMap((w) => w.messages).some((m) => m.type === 'aborted' && m.jobId === job.id), 15_000, `the abort of round ${round} to reach the plugin`);
    }
  }, 120_000);

  it.skipIf(!database.up)('a worker killed with SIGKILL mid-job: another worker runs the job again, and the events say so', async () => {
    // Held until released, so it is still running whenever the kill lands; only the survivor releases it.
    const job = await apiA.submit('gated', {});
    const events: JobStatusEvent[] = [];
    const following = (async () => {
      for await (const event of apiB.events(job.id)) events.push(statusEvent(event)); // these plugins write no output
    })();
    await until(() => events.some((e) => pidOf(e) !== undefined), 30_000, 'the job to start');
    const firstPid = pidOf(events.find((e) => pidOf(e) !== undefined)!)!;
    const victim = workers.find((w) => w.child.pid === firstPid)!;
    victim.child.kill('SIGKILL');
    expect((await victim.exited).signal).toBe('SIGKILL');
    workers.find((w) => w !== victim)!.child.send({ type: 'release', jobId: job.id });
    await following; // ends after the terminal event
    const requeued = events.find((e) => e.type === 'queued' && e.seq > 1);
    expect(requeued?.job.message).toMatch(/Requeued after the worker running it stopped/);
    const last = events.at(-1)!;
    expect(last.type).toBe('completed');
    const survivor = workers.find((w) => w !== victim)!;
    expect(last.job.result).toEqual({ pid: survivor.child.pid });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    workers = [survivor];
  }, 60_000);

  it.skipIf(!database.up)('a closed worker process exits by itself: no connection or timer left open', async () => {
    const worker = workers[0]!;
    worker.child.send({ type: 'close' });
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 20_000))]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(worker.messages.some((m) => m.type === 'closed')).toBe(true);
  }, 30_000);
});

describe.each(DATABASES)('BullMQ backend on $name: a job whose workers keep dying', (database) => {
  it.skipIf(!database.up)('is given up after maxStalledCount restarts and ends failed with a clear error', async () => {
    connection = database.url;
    const queue = `${prefix}-stalls-${database.name}`;
    const workers = await Promise.all([startWorker(queue), startWorker(queue), startWorker(queue)]);
    const api = producer(queue);
    try {
      const job = await api.submit('sleepy', { ms: 30_000 });
      const events: JobStatusEvent[] = [];
      const following = (async () => {
        for await (const event of api.events(job.id)) events.push(statusEvent(event)); // these plugins write no output
      })();
      const killed = new Set<number>();
      for (let round = 0; round < 2; round++) {
        // Kill whichever worker runs it now (maxStalledCount is 1: one restart, then it is given up).
        await until(() => events.some((e) => pidOf(e) !== undefined && !killed.has(pidOf(e)!)), 30_000, 'the job to run on a live worker');
        const pid = pidOf(events.findLast((e) => pidOf(e) !== undefined)!)!;
        killed.add(pid);
        const victim = workers.find((w) => w.child.pid === pid)!;
        victim.child.kill('SIGKILL');
        await victim.exited;
      }
      await following;
      const last = events.at(-1)!;
      expect(last.type).toBe('failed');
      expect(last.job.error?.code).toBe('PLUGIN_FAILED');
      expect(last.job.error?.message).toMatch(/BullMQ gave up on the job: the worker running it was lost 2 times/);
      expect(events.filter((e) => e.type === 'started')).toHaveLength(2);
    } finally {
      await api.close();
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await database.cleanup();
    }
  }, 120_000);
});

describe.each(DATABASES)('BullMQ backend on $name: retries and schedules across processes', (database) => {
  it.skipIf(!database.up)('a retry waits in the database: its worker killed during the backoff, the other worker runs the next tries', async () => {
    connection = database.url;
    const queue = `${prefix}-retry-${database.name}`;
    const workers = await Promise.all([startWorker(queue), startWorker(queue)]);
    const api = producer(queue);
    try {
      // Backoff 3 s, then 6 s: the kill lands well inside the first wait, even on a loaded machine.
      const job = await api.submit('flaky', { failures: 2 }, { attempts: 3, backoff: { type: 'exponential', delayMs: 3_000 } });
      const events: JobStatusEvent[] = [];
      const following = (async () => {
        for await (const event of api.events(job.id)) events.push(statusEvent(event)); // these plugins write no output
      })();
      await until(() => events.some((e) => e.type === 'retrying'), 30_000, 'the first try to fail');
      const startedHere = (worker: WorkerProcess): number[] => worker.messages.filter((m) => m.type === 'started' && m.jobId === job.id).map((m) => m.attempt!);
      const victim = workers.find((worker) => startedHere(worker).length > 0)!;
      expect(startedHere(victim)).toEqual([1]);
      victim.child.kill('SIGKILL');
      expect((await victim.exited).signal).toBe('SIGKILL');
      const survivor = workers.find((worker) => worker !== victim)!;
      await following; // ends after the terminal event
      const done = (await api.get(job.id))!;
      expect(done).toMatchObject({ status: 'completed', attempt: 3, maxAttempts: 3, result: { pid: survivor.child.pid, attempt: 3 } });
      expect(done.lastError).toEqual({ code: 'PLUGIN_FAILED', message: expect.stringMatching(/try 2 failed/) as unknown as string });
      expect(startedHere(survivor)).toEqual([2, 3]);
      expect(startedHere(victim)).toEqual([1]);
      const retrying = events.filter((e) => e.type === 'retrying');
      expect(retrying.map((e) => e.job.attempt)).toEqual([2, 3]);
      expect(retrying.map((e) => e.job.lastError?.message)).toEqual([expect.stringMatching(/try 1 failed/), expect.stringMatching(/try 2 failed/)]);
      expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1)); // one log, seq continues
    } finally {
      await api.close();
      for (const worker of workers) if (worker.child.exitCode === null && worker.child.signalCode === null) worker.child.kill('SIGKILL');
      await database.cleanup();
    }
  }, 120_000);

  it.skipIf(!database.up)('a schedule upserted by two API processes ticks once per tick across two workers, and keeps ticking after every process restarts', async () => {
    connection = database.url;
    const queue = `${prefix}-schedule-${database.name}`;
    const [workers, apis] = await Promise.all([Promise.all([startWorker(queue), startWorker(queue)]), Promise.all([startApi(queue), startApi(queue)])]);
    const everyWorker: WorkerProcess[] = [...workers];
    const reader = producer(queue); // the test's own eyes: reads jobs and schedules, upserts nothing
    const { store, close: closeStore } = database.store(queue);
    const key = 'every-second';
    const schedule = { everyMs: 1_000, plugin: 'stamp', input: {} };
    /** The tick times the workers' engines handled (as they logged them), one entry per hand-out. */
    const handled = (from: WorkerProcess[] = everyWorker): number[] => from.flatMap((worker) => worker.messages.filter((m) => m.type === 'tick' && m.schedule === key).map((m) => m.at!));
    const scheduled = async (): Promise<JobSnapshot[]> => (await reader.list({ plugin: 'stamp', limit: 100 })).jobs.filter((job) => job.scheduleKey === key);
    const sorted = (ticks: number[]): number[] => [...ticks].sort((a, b) => a - b);
    try {
      // Both API processes upsert it at once (say, both just started), and one again while it ticks.
      await Promise.all(apis.map((api) => api.schedule(key, schedule)));
      await until(() => handled().length >= 3, 60_000, 'three ticks');
      await apis[1]!.schedule(key, schedule);
      await until(() => handled().length >= 6, 60_000, 'six ticks');
      expect(await reader.schedules()).toEqual([expect.objectContaining({ key, everyMs: 1_000, plugin: 'stamp', next: expect.any(String) as unknown as string })]);

      // Every process stops (a deploy); a while later one new worker starts.
      await Promise.all([...workers, ...apis].map(stop));
      const stoppedAt = Date.now();
      const before = handled();
      // No tick was handed to both workers, nor twice to one (no failure was injected).
      expect(sorted(before)).toEqual([...new Set(sorted(before))]);
      await until(() => Date.now() > stoppedAt + 1_500, 30_000, 'a tick to come due while no process runs');
      const restarted = await startWorker(queue);
      everyWorker.push(restarted);
      await until(() => handled([restarted]).length >= 3, 60_000, 'the schedule to tick again after the restart');
      const after = handled([restarted]);
      expect(Math.min(...after)).toBeGreaterThan(Math.max(...before));

      expect(await reader.unschedule(key)).toBe(true);
      const removedAt = Date.now();
      expect(await reader.schedules()).toEqual([]);
      // A tick already due when it was removed may still submit its job; none due after it.
      // (Their absence can only be seen by letting two more intervals pass.)
      await until(() => Date.now() > removedAt + 2_000, 30_000, 'two intervals to pass after the removal');
      await until(async () => (await scheduled()).every((job) => job.status === 'completed'), 30_000, 'every tick job to complete');
      const ticks = sorted(handled());
      // Each tick handled exactly once across every worker, before and after the restart.
      expect(ticks).toEqual([...new Set(ticks)]);
      // One job per tick: each job names its tick (the idempotency key `jobwire:schedule:<key>:<tick time>`).
      const jobs = await scheduled();
      const jobTicks = await Promise.all(jobs.map(async (job) => Number(/^jobwire:schedule:every-second:(\d+)$/.exec((await store.get(job.id, Date.now()))?.idempotencyKey ?? '')?.[1])));
      expect(sorted(jobTicks)).toEqual(ticks);
      // Every tick on one grid of everyMs, across the restart too (BullMQ skips ticks it is too late
      // for, never adds one), and none after the removal.
      expect(ticks.every((tick) => (tick - ticks[0]!) % 1_000 === 0)).toBe(true);
      expect(ticks.at(-1)).toBeLessThanOrEqual(removedAt);
      // Ticks ran in the worker processes, never in the API processes.
      const pids = new Set(everyWorker.map((worker) => worker.child.pid));
      expect(jobs.every((job) => pids.has((job.result as { pid: number }).pid))).toBe(true);
      expect(await reader.unschedule(key)).toBe(false);
      await stop(restarted);
    } finally {
      await reader.close();
      await closeStore();
      for (const { child } of [...everyWorker, ...apis]) if (alive(child)) child.kill('SIGKILL');
      await database.cleanup();
    }
  }, 180_000);
});
