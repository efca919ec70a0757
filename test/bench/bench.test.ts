import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

/** The benchmark runner keeps working (figures are judged in docs/benchmarks.md, never here). */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

describe('npm run bench', () => {
  it('--quick --only --json runs the chosen measures and writes their figures with the machine', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobwire-bench-'));
    try {
      const file = join(dir, 'figures.json');
      const { stdout } = await run(resolve(root, 'node_modules/.bin/tsx'), ['bench/run.ts', '--quick', '--only', 'memory,sweep', '--json', file], { cwd: root });
      const lines = stdout.trim().split('\n');
      expect(lines[0]).toMatch(/^jobwire benchmarks \(quick pass\) — .+ cores/);
      expect(lines.filter((line) => line.startsWith('- '))).toHaveLength(2);
      const figures = JSON.parse(await readFile(file, 'utf8')) as { quick: boolean; machine: { cores: number }; results: { name: string; figures: Record<string, unknown> }[] };
      expect(figures.quick).toBe(true);
      expect(figures.machine.cores).toBeGreaterThan(0);
      expect(figures.results.map((r) => r.name)).toEqual(['memory', 'sweep']);
      expect(typeof figures.results[0]!.figures.bytesPerJob).toBe('number');
      expect(figures.results[1]!.figures.expired).toBe(1000);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
