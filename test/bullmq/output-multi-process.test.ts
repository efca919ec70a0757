import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { isStatusEvent, JobTracker, type JobEvent, type JobOutput } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { sleep, until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { chunksOf, createOutputPlugins } from './fixtures/output-plugins.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ output across processes on Redis — no Redis answers on 127.0.0.1:6379');
const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ output across processes on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = uniquePrefix();

/** Delete this run's PostgreSQL rows, its output rows included. */
async function deletePostgres(): Promise<void> {
  await deleteQueues(prefix);
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  await client.query('DELETE FROM jobwire.job_output WHERE queue LIKE $1', [`${prefix}%`]).catch(() => undefined);
  await client.end();
}

const DATABASES = [
  { name: 'Redis', url: REDIS_URL, up: redisUp, cleanup: () => deleteKeys(prefix) },
  { name: 'PostgreSQL', url: POSTGRES_URL, up: postgresUp, cleanup: deletePostgres },
];

interface Child {
  child: ChildProcess;
  messages: { type: string; id?: number; jobId?: string; wrote?: number; value?: unknown; message?: string }[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Send a request; resolves with its answer. */
  request<T>(request: object, timeoutMs?: number): Promise<T>;
}

let requests = 0;

/** Fork a fixture process (test/bullmq/fixtures/<file>) on `connection` and `queue`; resolves once it is ready. */
async function start(file: string, connection: string, queue: string, env: Record<string, string> = {}): Promise<Child> {
  const child = fork(resolve(import.meta.dirname, 'fixtures', file), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CONNECTION: connection, QUEUE_NAME: queue, PREFIX: prefix, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced', // any string (lone surrogates too) crosses as it is
  });
  const messages: Child['messages'] = [];
  child.on('message', (message: Child['messages'][number]) => messages.push(message));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await until(() => messages.some((m) => m.type === 'ready'), 30_000, `${file} to start`);
  const request = async <T,>(body: object, timeoutMs = 30_000): Promise<T> => {
    const id = ++requests;
    child.send({ ...body, id });
    await until(() => messages.some((m) => m.id === id && (m.type === 'answer' || m.type === 'failed')), timeoutMs, `${file} to answer ${JSON.stringify(body)}`);
    const answer = messages.find((m) => m.id === id && (m.type === 'answer' || m.type === 'failed'))!;
    if (answer.type === 'failed') throw new Error(`${file} failed: ${answer.message}`);
    return answer.value as T;
  };
  return { child, messages, exited, request };
}

const alive = (child: ChildProcess): boolean => child.exitCode === null && child.signalCode === null;

/** Adjacent strings concatenated: what a reader that lags may get instead of the chunks as written. */
function joined(chunks: readonly unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const chunk of chunks) {
    const last = out.length - 1;
    if (typeof chunk === 'string' && typeof out[last] === 'string') out[last] = (out[last] as string) + chunk;
    else out.push(chunk);
  }
  return out;
}

const outputsOf = (events: readonly JobEvent[]): unknown[] => events.flatMap((event) => (event.type === 'output' ? [event.chunk] : []));

/** Poll `check` every 20 ms (it reads a database). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await sleep(20);
  }
}

describe.each(DATABASES)('BullMQ on $name: output across processes', (database) => {
  const children: Child[] = [];
  const trackers: JobTracker[] = [];
  const producer = (queue: string): JobTracker => {
    const tracker = new JobTracker({ plugins: createOutputPlugins(), backend: new BullMQBackend({ connection: database.url, queueName: queue, prefix, role: 'producer' }) });
    trackers.push(tracker);
    return tracker;
  };
  const spawn = async (file: string, queue: string, env?: Record<string, string>): Promise<Child> => {
    const child = await start(file, database.url, queue, env);
    children.push(child);
    return child;
  };

  afterAll(async () => {
    await Promise.all(trackers.map((tracker) => tracker.close({ timeoutMs: 0 })));
    for (const { child } of children) if (alive(child)) child.kill('SIGKILL');
    if (database.up) await database.cleanup();
  });

  it.skipIf(!database.up)('a plugin on a worker process writes chunks; a reader in an API process gets every one live, in order, and reads them all back', async () => {
    const queue = `${prefix}-live-${database.name}`;
    const [, api] = await Promise.all([spawn('output-worker.ts', queue), spawn('output-api.ts', queue)]);
    const input = { chunks: 80, everyMs: 3 };
    const job = await producer(queue).submit('writer', input);
    const [events] = await api.request<JobEvent[][]>({ type: 'follow', jobId: job.id, readers: 1 });
    const got = events!;
    expect(got[0]?.type).toBe('queued');
    expect(got.at(-1)?.type).toBe('completed');
    expect(got.some((event) => event.type === 'gap')).toBe(false);
    const seqs = got.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    // Every chunk exactly once, in order (a reader that lagged may have had adjacent strings merged).
    expect(joined(outputsOf(got))).toEqual(joined(chunksOf(input)));
    expect(got.filter(isStatusEvent).every((event) => event.job.id === job.id)).toBe(true);
    // Read back whole, from the API process.
    const output = await api.request<JobOutput>({ type: 'output', jobId: job.id });
    expect(output).toEqual({ chunks: chunksOf(input), gap: false, lastSeq: seqs.at(-2) });
  }, 90_000);

  it.skipIf(!database.up)('an API process started after the worker died mid-job serves the whole retained output, and the gap past the limit', async () => {
    const queue = `${prefix}-killed-${database.name}`;
    const worker = await spawn('output-worker.ts', queue, { OUTPUT_LIMIT_BYTES: '4000' });
    const tracker = producer(queue);
    const small = { chunks: 40, hold: true }; // well under the limit
    const large = { chunks: 100, size: 60, hold: true }; // ~6.5 kB: past it
    const [whole, trimmed] = await Promise.all([tracker.submit('writer', small), tracker.submit('writer', large)]);
    // Both written and stored (the API tracker of this process reads what the store holds).
    await eventually(async () => (await tracker.output(whole.id)).chunks.length === small.chunks && (await tracker.output(trimmed.id)).lastSeq === 3 + large.chunks, 'the output to be stored');
    worker.child.kill('SIGKILL');
    expect((await worker.exited).signal).toBe('SIGKILL');

    const api = await spawn('output-api.ts', queue); // knows nothing but what the database holds
    expect(await api.request<JobOutput>({ type: 'output', jobId: whole.id })).toEqual({ chunks: chunksOf(small), gap: false, lastSeq: 3 + small.chunks });
    const kept = await api.request<JobOutput>({ type: 'output', jobId: trimmed.id });
    expect(kept.gap).toBe(true);
    expect(kept.lastSeq).toBe(3 + large.chunks);
    const all = chunksOf(large);
    expect(kept.chunks.length).toBeGreaterThan(0);
    expect(kept.chunks).toEqual(all.slice(all.length - kept.chunks.length)); // the newest part
    expect(Buffer.byteLength(kept.chunks.map((chunk) => JSON.stringify(chunk)).join(''))).toBeLessThanOrEqual(4_000);

    // Its events() replay the same, then end live with the cancel.
    const following = api.request<JobEvent[][]>({ type: 'follow', jobId: whole.id, readers: 2 });
    const followingTrimmed = api.request<JobEvent[][]>({ type: 'follow', jobId: trimmed.id, readers: 1 });
    await until(() => api.messages.filter((m) => m.type === 'live').length === 2, 30_000, 'the readers to replay');
    await Promise.all([tracker.cancel(whole.id, 'enough'), tracker.cancel(trimmed.id, 'enough')]);
    for (const events of await following) {
      expect(events.map((event) => event.type).slice(0, 3)).toEqual(['queued', 'started', 'progress']);
      expect(joined(outputsOf(events))).toEqual(joined(chunksOf(small)));
      expect(events.at(-1)).toMatchObject({ type: 'cancelled', seq: 4 + small.chunks });
    }
    const [replayed] = await followingTrimmed;
    const types = replayed!.map((event) => event.type);
    expect(types.slice(0, 4)).toEqual(['queued', 'started', 'progress', 'gap']);
    expect(replayed![3]).toMatchObject({ type: 'gap', fromSeq: 4, toSeq: 3 + large.chunks - kept.chunks.length });
    expect(joined(outputsOf(replayed!))).toEqual(joined(kept.chunks));
    expect(types.at(-1)).toBe('cancelled');
  }, 90_000);
});

/** A Redis of this test's own (nothing else counts in its INFO commandstats), or undefined when redis-server is not installed. */
async function privateRedis(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  const { spawn: run, execFileSync } = await import('node:child_process');
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    return undefined;
  }
  const { createServer } = await import('node:net');
  const port = await new Promise<number>((done) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = server.address() as { port: number };
      server.close(() => done(free));
    });
  });
  const child = run('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { Redis } = await import('ioredis');
  const probe = new Redis(`redis://127.0.0.1:${port}`, { lazyConnect: true, retryStrategy: () => 50 });
  await until(async () => (await probe.ping().catch(() => '')) === 'PONG', 10_000, 'the private redis-server');
  await probe.quit();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((done) => child.once('exit', done));
    },
  };
}

const ownRedis = redisUp ? await privateRedis() : undefined;
if (redisUp && !ownRedis) console.warn('SKIPPED: BullMQ output cost per reader on Redis — redis-server is not installed (the test runs one of its own)');

describe.runIf(ownRedis)('BullMQ on Redis: what output costs', () => {
  afterAll(async () => {
    await ownRedis?.stop();
  });

  it('Redis commands per batch do not grow with the number of readers: one PUBLISH per batch, no reads', async () => {
    const url = ownRedis!.url;
    const { Redis } = await import('ioredis');
    const redis = new Redis(url);
    const queue = `${prefix}-cost`;
    const channel = `${prefix}:{${queue}}:jw:events`;
    /** BullMQ's set of completed jobs of the queue. */
    const completedKey = `${prefix}:${queue}:completed`;
    /** Every command's calls so far, read at one point of the channel's message order: a marker published in the same MULTI. */
    const snapshot = async (): Promise<Record<string, number>> => {
      const [[, info]] = (await redis.multi().info('commandstats').publish(channel, 'mark').exec()) as [[null, string]];
      const calls: Record<string, number> = {};
      for (const [, name, n] of info.matchAll(/^cmdstat_([a-z|]+):calls=(\d+)/gm)) calls[name!] = Number(n);
      return calls;
    };
    const sub = new Redis(url);
    /** The channel's messages, by kind: `o` a batch, `e` an event, `m` a marker. */
    const heard: string[] = [];
    sub.on('message', (_channel: string, message: string) => heard.push(message.slice(0, 1)));
    await sub.subscribe(channel);
    const worker = await start('output-worker.ts', url, queue);
    const api = await start('output-api.ts', url, queue);
    const tracker = new JobTracker({ plugins: createOutputPlugins(), backend: new BullMQBackend({ connection: url, queueName: queue, prefix, role: 'producer' }) });
    try {
      const measure = async (readers: number): Promise<{ batches: number; events: number; delta: Record<string, number> }> => {
        const input = { chunks: 60, everyMs: 10 };
        const job = await tracker.submit('writer', input);
        const liveBefore = api.messages.filter((m) => m.type === 'live').length;
        const following = api.request<JobEvent[][]>({ type: 'follow', jobId: job.id, readers });
        await until(() => api.messages.filter((m) => m.type === 'live').length > liveBefore, 30_000, 'every reader to be live');
        // The window: from every reader live to the job's end, while the plugin writes.
        const marked = heard.length;
        const before = await snapshot();
        const got = await following;
        // BullMQ records the job's end just after jobwire does: that lands inside the window or after
        // it by chance, by a score of commands. Waited for, it is inside in every run alike; the
        // polls (ZSCORE, which nothing else sends in the window) are taken off the count.
        let polls = 0;
        await until(async () => (polls++, (await redis.zscore(completedKey, job.id)) !== null), 30_000, "BullMQ to record the job's end");
        const after = await snapshot();
        await until(() => heard.filter((kind, i) => i >= marked && kind === 'm').length === 2, 10_000, 'the markers');
        const window = heard.slice(marked);
        const inside = window.slice(window.indexOf('m') + 1, window.lastIndexOf('m'));
        for (const events of got) expect(joined(outputsOf(events))).toEqual(joined(chunksOf(input)));
        const delta: Record<string, number> = {};
        for (const [name, n] of Object.entries(after)) delta[name] = n - (before[name] ?? 0);
        delta.zscore = (delta.zscore ?? 0) - polls;
        return { batches: inside.filter((kind) => kind === 'o').length, events: inside.filter((kind) => kind === 'e').length, delta };
      };
      const one = await measure(1);
      const ten = await measure(10);
      for (const run of [one, ten]) {
        expect(run.batches).toBeGreaterThan(20);
        // One PUBLISH per message on the channel (a batch, a status event, and the window's first marker).
        expect(run.delta.publish).toBe(run.batches + run.events + 1);
        // Readers never read the log again while they follow it live (a log read is a MULTI with two
        // LRANGEs; the one MULTI counted is the closing snapshot's).
        expect(run.delta.lrange ?? 0).toBe(0);
        expect(run.delta.multi).toBe(1);
      }
      // What ten readers cost beyond one, per batch: nothing (BullMQ's own background work aside).
      const total = (run: typeof one): number => Object.entries(run.delta).reduce((sum, [name, n]) => sum + (name === 'info' || name === 'multi' || name === 'exec' ? 0 : n), 0);
      expect(total(ten) / ten.batches - total(one) / one.batches).toBeLessThan(0.5);
    } finally {
      await tracker.close({ timeoutMs: 0 });
      for (const { child } of [worker, api]) if (alive(child)) child.kill('SIGKILL');
      await sub.quit();
      await redis.quit();
    }
  }, 90_000);
});
