/** Shared helpers of the benchmarks: arguments, statistics, and the result line the runner reads. */
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

/** `--quick` runs a short pass (fewer jobs, fewer rounds). */
export const QUICK = process.argv.includes('--quick');

/** One measure's outcome: a summary line for people, figures for `--json`. */
export interface BenchResult {
  name: string;
  line: string;
  figures: Record<string, number | string | boolean | number[]>;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

/** Wall-clock time in ms with sub-ms precision, comparable across processes on one machine. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

/** Run `fn` `rounds` times after `warmup` untimed runs; the ms each timed round took. */
export async function rounds(count: number, warmup: number, fn: () => Promise<void>): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

/** Force a full GC (needs --expose-gc) and settle. */
export async function collectGarbage(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) {
    gc();
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** Print the result for the runner (last line of stdout). */
export function report(result: BenchResult): void {
  console.log(`BENCH_RESULT ${JSON.stringify(result)}`);
}

export const target = (ok: boolean): string => (ok ? 'target met' : 'TARGET MISSED');

/**
 * Fork a bench process (a file next to this one, run with tsx) that talks over IPC in messages
 * with a `type`; `next(type)` resolves with its next message of that type, and rejects once the
 * process has exited without sending one.
 */
export function forkBench<M extends { type: string }>(file: string, env: Record<string, string>, execArgv: string[] = []): { child: ChildProcess; next: (type: string) => Promise<M> } {
  const child = fork(fileURLToPath(new URL(file, import.meta.url)), [], { execArgv: ['--import', 'tsx', ...execArgv], env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const inbox: M[] = [];
  const waiters: { type: string; resolve: (m: M) => void; reject: (error: Error) => void }[] = [];
  let exitCode: number | null | undefined;
  child.on('message', (message: M) => {
    const index = waiters.findIndex((w) => w.type === message.type);
    if (index >= 0) waiters.splice(index, 1)[0]!.resolve(message);
    else inbox.push(message);
  });
  child.once('exit', (code) => {
    exitCode = code;
    for (const waiter of waiters.splice(0)) waiter.reject(new Error(`${file} exited (${code}) before '${waiter.type}'`));
  });
  const next = (type: string): Promise<M> =>
    new Promise((resolve, reject) => {
      const index = inbox.findIndex((m) => m.type === type);
      if (index >= 0) return resolve(inbox.splice(index, 1)[0]!);
      if (exitCode !== undefined) return reject(new Error(`${file} exited (${exitCode}) before '${type}'`));
      waiters.push({ type, resolve, reject });
    });
  return { child, next };
}
