/**
 * `npm run bench [-- --quick] [-- --json FILE] [-- --only name,name]`: every measure, each in its
 * own process (clean heap, its own flags), side by side with its anchor in the same run. One
 * summary line per measure; `--json` writes every figure with the machine they came from.
 */
import { execFileSync, spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { BenchResult } from './lib.js';

const MEASURES: { name: string; file: string; flags: string[]; args?: string[] }[] = [
  { name: 'throughput', file: 'throughput.ts', flags: [] },
  { name: 'memory', file: 'memory.ts', flags: ['--expose-gc'] },
  { name: 'sse', file: 'sse.ts', flags: [] },
  { name: 'cancel', file: 'cancel.ts', flags: [] },
  { name: 'bullmq', file: 'bullmq.ts', flags: [] },
  { name: 'bullmq-postgres', file: 'bullmq.ts', flags: [], args: ['--postgres'] },
  { name: 'sweep', file: 'sweep.ts', flags: ['--max-old-space-size=4096'] },
  { name: 'isolation', file: 'isolation.ts', flags: [] },
  { name: 'output', file: 'output.ts', flags: [] },
  { name: 'client-size', file: 'client-size.ts', flags: [] },
];

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const jsonIndex = args.indexOf('--json');
const jsonFile = jsonIndex >= 0 ? args[jsonIndex + 1] : undefined;
if (jsonIndex >= 0 && !jsonFile) throw new Error('--json needs a file name');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? new Set((args[onlyIndex + 1] ?? '').split(',')) : undefined;

function runMeasure(file: string, flags: string[], extra: string[] = []): Promise<BenchResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...flags, fileURLToPath(new URL(file, import.meta.url)), ...extra, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('exit', (code) => {
      const line = output.split('\n').find((l) => l.startsWith('BENCH_RESULT '));
      if (code !== 0 || !line) reject(new Error(`${file} failed (exit ${code}):\n${output}`));
      else resolve(JSON.parse(line.slice('BENCH_RESULT '.length)) as BenchResult);
    });
  });
}

const machine = {
  cpu: cpus()[0]?.model ?? 'unknown',
  cores: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  node: process.version,
  postgres: (() => {
    try {
      return execFileSync('psql', ['-h', '127.0.0.1', '-U', 'postgres', '-Atc', 'SHOW server_version', 'test'], { encoding: 'utf8' }).trim() || 'unknown';
    } catch {
      return 'not available';
    }
  })(),
  redis: (() => {
    try {
      return /redis_version:(\S+)/.exec(execFileSync('redis-cli', ['info', 'server'], { encoding: 'utf8' }))?.[1] ?? 'unknown';
    } catch {
      return 'not available';
    }
  })(),
};
console.log(`jobwire benchmarks${quick ? ' (quick pass)' : ''} — ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, Redis ${machine.redis}, PostgreSQL ${machine.postgres}`);
const results: BenchResult[] = [];
for (const measure of MEASURES) {
  if (only && !only.has(measure.name)) continue;
  const result = await runMeasure(measure.file, measure.flags, measure.args);
  results.push(result);
  console.log(`- ${result.line}`);
}
if (jsonFile) {
  await writeFile(jsonFile, `${JSON.stringify({ date: new Date().toISOString(), quick, machine, results }, null, 2)}\n`);
  console.log(`figures written to ${jsonFile}`);
}
