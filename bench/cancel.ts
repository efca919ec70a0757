/**
 * 4. Cancel latency: from `cancel()` to the plugin's `ctx.signal` abort event — in memory (same
 * process), and across processes on BullMQ (API process here, worker forked; Redis on loopback).
 */
import { fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { BullMQBackend } from 'jobwire/bullmq';
import { percentile, QUICK, report, round, target, wallClock } from './lib.js';
import { deleteKeys as cleanRedis, redisAnswers as redisAvailable } from '../test/helpers/redis.js';

const MEMORY_SAMPLES = QUICK ? 1_000 : 10_000;
const BULLMQ_SAMPLES = QUICK ? 30 : 200;

async function memory(): Promise<number[]> {
  let abortedAt = 0;
  let started!: () => void;
  const plugin = definePlugin({
    name: 'hold',
    input: z.object({}),
    run: (_input, ctx) =>
      new Promise((_resolve, reject) => {
        ctx.signal.addEventListener('abort', () => {
          abortedAt = performance.now();
          reject(ctx.signal.reason);
        });
        started();
      }),
  });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), concurrency: 1 });
  const samples: number[] = [];
  for (let i = 0; i < MEMORY_SAMPLES + 200; i++) {
    const running = new Promise<void>((resolve) => (started = resolve));
    const job = await tracker.submit('hold', {});
    await running;
    const at = performance.now();
    await tracker.cancel(job.id);
    if (i >= 200) samples.push(abortedAt - at); // the first 200 warm up
  }
  await tracker.close();
  return samples;
}

async function bullmq(): Promise<number[]> {
  const prefix = `jobwire-bench-${process.pid}`;
  const child = fork(fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], env: { ...process.env, PREFIX: prefix, QUEUE_NAME: 'cancel' }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const aborted = new Map<string, number>();
  await new Promise<void>((resolve) =>
    child.on('message', (message: { type: string; jobId?: string; at?: number }) => {
      if (message.type === 'ready') resolve();
      if (message.type === 'aborted') aborted.set(message.jobId!, message.at!);
    }),
  );
  const plugins = new LocalPluginManager().register(definePlugin({ name: 'wait', input: z.object({ ms: z.number() }), run: async () => null }));
  const tracker = new JobTracker({ plugins, backend: new BullMQBackend({ connection: 'redis://127.0.0.1:6379', queueName: 'cancel', prefix, role: 'producer' }) });
  const samples: number[] = [];
  for (let i = 0; i < BULLMQ_SAMPLES + 5; i++) {
    const job = await tracker.submit('wait', { ms: 60_000 });
    while ((await tracker.get(job.id))?.status !== 'running') await new Promise((resolve) => setTimeout(resolve, 2));
    const at = wallClock();
    await tracker.cancel(job.id);
    while (!aborted.has(job.id)) await new Promise((resolve) => setTimeout(resolve, 1));
    if (i >= 5) samples.push(aborted.get(job.id)! - at);
  }
  await tracker.close();
  child.send({ type: 'close' });
  await new Promise((resolve) => child.once('exit', resolve));
  await cleanRedis(prefix);
  return samples;
}

const local = await memory();
const remote = (await redisAvailable()) ? await bullmq() : undefined;
const localP99 = percentile(local, 99);
const remoteP99 = remote ? percentile(remote, 99) : Number.NaN;
report({
  name: 'cancel',
  line:
    `cancel → ctx.signal abort: in memory p50 ${round(percentile(local, 50) * 1000, 1)} µs / p99 ${round(localP99 * 1000, 1)} µs (target ≤ 1 ms: ${target(localP99 <= 1)}); ` +
    (remote ? `across processes on BullMQ p50 ${round(percentile(remote, 50), 2)} ms / p99 ${round(remoteP99, 2)} ms (target ≤ 100 ms: ${target(remoteP99 <= 100)})` : 'BullMQ: skipped, no Redis on 127.0.0.1:6379'),
  figures: { memorySamples: local.length, memoryP50Ms: round(percentile(local, 50), 4), memoryP99Ms: round(localP99, 4), bullmqSamples: remote?.length ?? 0, bullmqP50Ms: remote ? round(percentile(remote, 50), 3) : 'skipped', bullmqP99Ms: remote ? round(remoteP99, 3) : 'skipped' },
});
