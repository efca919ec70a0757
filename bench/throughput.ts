/**
 * 1. Throughput in memory: a no-op plugin, 50k jobs, concurrency 5, submit → completed with an
 * event listener on, side by side with raw p-queue running the same closures. Also: what the
 * always-on per-plugin duration stats cost per job, and the throughput with Prometheus metrics on.
 */
import PQueue from 'p-queue';
import { z } from 'zod';
import { performance } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { collectMetrics } from 'jobwire/metrics';
import { DurationStats } from '../src/tracker/duration-stats.js';
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

async function jobwire(withMetrics = false): Promise<void> {
  const plugin = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: noop });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), concurrency: 5 });
  if (withMetrics) await collectMetrics(tracker, { registry: new Registry() });
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
const metered: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  raw.push(...(await rounds(1, i === 0 ? 1 : 0, rawPQueue)));
  ours.push(...(await rounds(1, i === 0 ? 1 : 0, () => jobwire())));
  metered.push(...(await rounds(1, i === 0 ? 1 : 0, () => jobwire(true))));
}

// The duration stats every tracker keeps: the cost of recording one ended job.
const stats = new DurationStats(300_000);
const RECORDS = 1_000_000;
const t0 = performance.now();
for (let i = 0; i < RECORDS; i++) stats.record('noop', 'completed', 1_000_000 + i, 1_000_000 + i + (i % 50), 1_000_000 + i + (i % 50) + (i % 7));
const recordNs = ((performance.now() - t0) * 1e6) / RECORDS;
const rawRate = JOBS / (median(raw) / 1000);
const ourRate = JOBS / (median(ours) / 1000);
const ratio = ourRate / rawRate;
const meteredRate = JOBS / (median(metered) / 1000);
const statsShare = recordNs / (1e9 / ourRate);
report({
  name: 'throughput',
  line:
    `throughput (memory, ${JOBS} no-op jobs, concurrency 5): jobwire ${Math.round(ourRate)} jobs/s, raw p-queue ${Math.round(rawRate)} jobs/s → ${round(ratio)}× (target ≥ 0.5×, aim 0.8×: ${target(ratio >= 0.5)}); ` +
    `duration stats ${round(recordNs, 1)} ns per job = ${round(statsShare * 100, 2)} % of a job (metrics off costs ≤ 5 %: ${target(statsShare <= 0.05)}); with Prometheus metrics on ${Math.round(meteredRate)} jobs/s (${round(meteredRate / ourRate)}×)`,
  figures: { jobs: JOBS, rounds: ROUNDS, jobwireJobsPerSec: Math.round(ourRate), pqueueJobsPerSec: Math.round(rawRate), ratio: round(ratio, 3), statsNsPerJob: round(recordNs, 1), statsShareOfJob: round(statsShare, 4), withMetricsJobsPerSec: Math.round(meteredRate), jobwireMs: ours.map((t) => round(t)), pqueueMs: raw.map((t) => round(t)) },
});
