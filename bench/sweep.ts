/**
 * 6. TTL sweep cost: time to sweep 1k expired jobs among N retained ones, for growing N. The sweep
 * pops expired jobs off a heap ordered by expiry: its cost must not grow with N.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, MemoryBackend } from 'jobwire';
import { median, QUICK, report, round, target } from './lib.js';

const SIZES = QUICK ? [10_000, 100_000] : [10_000, 100_000, 1_000_000];
const EXPIRED = 1_000;
const plugin = definePlugin({ name: 'tiny', input: z.object({}), run: async () => null });

const TTL = 1_000_000;
const T0 = 10_000_000;

async function measure(retained: number): Promise<number> {
  let clock = T0;
  const backend = new MemoryBackend();
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), backend, concurrency: 50, ttlMs: TTL, now: () => clock });
  let completed = 0;
  tracker.on('job:completed', () => completed++);
  const settle = async (count: number): Promise<void> => {
    while (completed < count) await new Promise((resolve) => setImmediate(resolve));
  };
  // Retained jobs finish at T0: they expire at T0 + TTL, long after every sweep below.
  for (let i = 0; i < retained; i++) await tracker.submit('tiny', {});
  await settle(retained);
  const samples: number[] = [];
  for (let round = 0; round < 5; round++) {
    // Each batch finishes "TTL ago", so it is expired when the clock comes back to now.
    clock = T0 - TTL + 1 + round * 10;
    for (let i = 0; i < EXPIRED; i++) await tracker.submit('tiny', {});
    await settle(retained + (round + 1) * EXPIRED);
    clock = T0 + 2 + round * 10;
    const start = performance.now();
    const swept = backend.sweep();
    samples.push(performance.now() - start);
    if (swept !== EXPIRED) throw new Error(`swept ${swept}, expected ${EXPIRED}`);
  }
  await tracker.close({ timeoutMs: 0 });
  return median(samples);
}

const results: Record<string, number> = {};
for (const size of SIZES) results[size] = await measure(size);
const small = results[SIZES[0]!]!;
const large = results[SIZES.at(-1)!]!;
const growth = large / small;
report({
  name: 'sweep',
  line: `TTL sweep of ${EXPIRED} expired jobs: ${SIZES.map((size) => `${round(results[size]!, 2)} ms among ${size.toLocaleString('en')}`).join(', ')} → ${round(growth)}× from smallest to largest (flat = O(expired): ${target(growth < 3)})`,
  figures: { expired: EXPIRED, ...Object.fromEntries(SIZES.map((size) => [`ms_at_${size}`, round(results[size]!, 3)])), growth: round(growth, 3) },
});
