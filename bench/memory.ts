/**
 * 2. Memory: heap per retained finished job (small input and result) after GC, at 100k jobs; then
 * the heap after the TTL sweep removed them, against the heap at the start. Run with --expose-gc.
 */
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, MemoryBackend } from 'jobwire';
import { collectGarbage, QUICK, report, round, target } from './lib.js';

const JOBS = QUICK ? 20_000 : 100_000;
const plugin = definePlugin({ name: 'small', input: z.object({ n: z.number() }), run: async (input) => ({ double: input.n * 2 }) });
let clock = Date.now();
const backend = new MemoryBackend();
const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), backend, concurrency: 5, ttlMs: 60_000, now: () => clock });

// Warm up the code paths so compiled code and caches are in the baseline, then empty it again.
for (let i = 0; i < 2_000; i++) await tracker.submit('small', { n: i });
await new Promise<void>((resolve) => {
  const check = (): void => void tracker.stats().then((s) => (s.queued + s.running === 0 ? resolve() : setTimeout(check, 5)));
  check();
});
clock += 120_000;
backend.sweep();
await collectGarbage();
const start = process.memoryUsage().heapUsed;

let completed = 0;
const finished = new Promise<void>((resolve) => {
  tracker.on('job:completed', () => {
    if (++completed === JOBS) resolve();
  });
});
for (let i = 0; i < JOBS; i++) await tracker.submit('small', { n: i });
await finished;
await collectGarbage();
const retained = process.memoryUsage().heapUsed;
const perJob = (retained - start) / JOBS;

clock += 120_000; // past every TTL
const swept = backend.sweep();
await collectGarbage();
const after = process.memoryUsage().heapUsed;
const back = (after - start) / start;
await tracker.close();

report({
  name: 'memory',
  line: `memory (${JOBS} finished jobs retained): ${Math.round(perJob)} B per job (target ≤ 1.5 KB: ${target(perJob <= 1536)}); after the sweep removed ${swept}: heap ${round(back * 100, 1)}% from the start (target within 10%: ${target(Math.abs(back) <= 0.1)})`,
  figures: { jobs: JOBS, bytesPerJob: Math.round(perJob), heapStart: start, heapRetained: retained, heapAfterSweep: after, swept, afterSweepChange: round(back, 4) },
});
