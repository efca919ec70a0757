/**
 * 5. BullMQ backend throughput against raw BullMQ: same Redis, same concurrency, same run. A no-op
 * job, submit → completed, both in one process (queue and worker), alternating rounds.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { BullMQBackend } from 'jobwire/bullmq';
import { deleteKeys, redisAnswers } from '../test/helpers/redis.js';
import { median, QUICK, report, round, target } from './lib.js';

const JOBS = QUICK ? 500 : 3_000;
const ROUNDS = QUICK ? 2 : 5;
const CONCURRENCY = 5;
const prefix = `jobwire-bench-${process.pid}`;
let round_ = 0;

async function raw(): Promise<number> {
  const name = `raw-${++round_}`;
  const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection, prefix });
  let completed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(name, async () => ({ ok: true }), { connection, prefix, concurrency: CONCURRENCY });
  worker.on('completed', () => ++completed === JOBS && finish());
  await worker.waitUntilReady();
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await queue.add('noop', { i }, { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } });
  await finished;
  const ms = performance.now() - start;
  await worker.close();
  await queue.close();
  await connection.quit();
  return ms;
}

async function ours(): Promise<number> {
  const name = `jobwire-${++round_}`;
  const plugin = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: async () => ({ ok: true }) });
  const backend = new BullMQBackend({ connection: 'redis://127.0.0.1:6379', queueName: name, prefix, role: 'both', concurrency: CONCURRENCY });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), backend });
  await backend.ready();
  let completed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  tracker.on('job:completed', () => ++completed === JOBS && finish());
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await tracker.submit('noop', { i });
  await finished;
  const ms = performance.now() - start;
  await tracker.close();
  return ms;
}

if (!(await redisAnswers())) {
  report({ name: 'bullmq', line: 'BullMQ throughput: skipped, no Redis on 127.0.0.1:6379', figures: { skipped: true } });
} else {
  const rawMs: number[] = [];
  const ourMs: number[] = [];
  await raw(); // warm-up
  await ours();
  for (let i = 0; i < ROUNDS; i++) {
    rawMs.push(await raw());
    ourMs.push(await ours());
  }
  await deleteKeys(prefix);
  const rawRate = JOBS / (median(rawMs) / 1000);
  const ourRate = JOBS / (median(ourMs) / 1000);
  const ratio = ourRate / rawRate;
  report({
    name: 'bullmq',
    line: `BullMQ backend (${JOBS} no-op jobs, concurrency ${CONCURRENCY}, Redis on loopback): jobwire ${Math.round(ourRate)} jobs/s, raw BullMQ ${Math.round(rawRate)} jobs/s → ${round(ratio)}× (target ≥ 0.8×: ${target(ratio >= 0.8)})`,
    figures: { jobs: JOBS, rounds: ROUNDS, jobwireJobsPerSec: Math.round(ourRate), bullmqJobsPerSec: Math.round(rawRate), ratio: round(ratio, 3), jobwireMs: ourMs.map((t) => round(t)), bullmqMs: rawMs.map((t) => round(t)) },
  });
}
