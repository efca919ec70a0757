import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationStats } from '../../src/tracker/duration-stats.js';

const exactPercentile = (values: number[], q: number): number => [...values].sort((a, b) => a - b)[Math.max(1, Math.ceil(q * values.length)) - 1]!;

describe('DurationStats', () => {
  it('counts ended jobs by status per plugin; jobs that never started add no durations', () => {
    const stats = new DurationStats(60_000);
    stats.record('a', 'completed', 0, 10, 110);
    stats.record('a', 'failed', 0, 20, 70);
    stats.record('a', 'cancelled', 0, undefined, 5);
    stats.record('b', 'completed', 100, 100, 300);
    const summary = stats.summary(1_000);
    expect(Object.keys(summary)).toEqual(['a', 'b']);
    expect(summary.a!.finished).toEqual({ completed: 1, failed: 1, cancelled: 1 });
    expect(summary.a!.runMs.count).toBe(2);
    expect(summary.a!.queueWaitMs.count).toBe(2);
    expect(Math.abs(summary.b!.runMs.p50 - 200) / 200).toBeLessThan(0.05);
  });

  it('property: percentiles are within the histogram resolution (±5 %) of the exact ones', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1, max: 3_600_000, noNaN: true }), { minLength: 1, maxLength: 300 }), (runs) => {
        const stats = new DurationStats(60_000);
        const end = 10_000_000; // all in one moment: the window does not move
        for (const run of runs) stats.record('p', 'completed', end - run - 5, end - run, end);
        const { runMs, queueWaitMs } = stats.summary(end)['p']!;
        expect(queueWaitMs.p99).toBeGreaterThan(4.5);
        expect(queueWaitMs.p99).toBeLessThan(5.5);
        expect(runMs.count).toBe(runs.length);
        for (const [q, key] of [[0.5, 'p50'], [0.95, 'p95'], [0.99, 'p99']] as const) {
          const exact = exactPercentile(runs, q);
          expect(Math.abs(runMs[key] - exact) / exact).toBeLessThan(0.05);
        }
      }),
      { numRuns: 200 },
    );
  });

  it('slides: jobs older than the window drop out, slice by slice', () => {
    const stats = new DurationStats(60_000); // 6 slices of 10 s
    stats.record('p', 'completed', 0, 0, 1_000);
    stats.record('p', 'completed', 30_000, 30_000, 31_000);
    expect(stats.summary(59_000)['p']!.finished.completed).toBe(2);
    expect(stats.summary(61_000)['p']!.finished.completed).toBe(1); // the slice of t=1 s is gone
    expect(stats.summary(95_000)['p']).toBeUndefined(); // everything gone
    stats.record('p', 'failed', 95_000, 95_000, 96_000);
    expect(stats.summary(96_000)['p']!.finished).toEqual({ completed: 0, failed: 1, cancelled: 0 });
    expect(stats.summary(10_000_000)).toEqual({});
  });
});
