/**
 * 1. Throughput in memory: a no-op plugin, 50k jobs, concurrency 5, submit → completed with an
 * event listener on, side by side with raw p-queue running the same closures.
 */
import PQueue from 'p-queue';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { median, QUICK, report, round, rounds, target } from './lib.js';

const JOBS = QUICK ? 10_000 : 50_000;
const ROUNDS = QUICK ? 3 : 7;
const noop = async (): Promise<{ ok: true }> => ({ ok: true });

async function rawPQueue(): Promise<void> {
  const queue = new PQueue({ concurrency: 5 });
  let done = 0;
  for (let i = 0; i < JOBS; i++) void queue.add(noop).then(() => done++);
  await queue.onIdle();
  if (done !== JOBS) throw new Error('p-queue lost jobs');
}

async function jobwire(): Promise<void> {
  const plugin = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: noop });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), concurrency: 5 });
  let completed = 0;
  const finished = new Promise<void>((resolve) => {
    tracker.on('job:completed', () => {
      if (++completed === JOBS) resolve();
    });
  });
  for (let i = 0; i < JOBS; i++) await tracker.submit('noop', { i });
  await finished;
  await tracker.close();
}

// Interleave the two so drift on a shared machine hits both alike.
const raw: number[] = [];
const ours: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  raw.push(...(await rounds(1, i === 0 ? 1 : 0, rawPQueue)));
  ours.push(...(await rounds(1, i === 0 ? 1 : 0, jobwire)));
}
const rawRate = JOBS / (median(raw) / 1000);
const ourRate = JOBS / (median(ours) / 1000);
const ratio = ourRate / rawRate;
report({
  name: 'throughput',
  line: `throughput (memory, ${JOBS} no-op jobs, concurrency 5): jobwire ${Math.round(ourRate)} jobs/s, raw p-queue ${Math.round(rawRate)} jobs/s → ${round(ratio)}× (target ≥ 0.5×, aim 0.8×: ${target(ratio >= 0.5)})`,
  figures: { jobs: JOBS, rounds: ROUNDS, jobwireJobsPerSec: Math.round(ourRate), pqueueJobsPerSec: Math.round(rawRate), ratio: round(ratio, 3), jobwireMs: ours.map((t) => round(t)), pqueueMs: raw.map((t) => round(t)) },
});
