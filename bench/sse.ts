/**
 * 3. SSE fan-out: CLIENTS concurrent SSE readers (real HTTP on loopback, a second process) following
 * jobs that report progress; latency from ctx.progress() to the client's parse, p50/p99. Side by
 * side with a raw server writing the same frames straight to ServerResponses, and with polling
 * every 2 s for contrast.
 */
import type { ChildProcess } from 'node:child_process';
import { forkBench, median, percentile, QUICK, report, round, target } from './lib.js';

const CLIENTS = QUICK ? 200 : 1_000;
const JOBS = 10;
const TICKS = QUICK ? 10 : 30;
const TICK_MS = 100;

interface Message {
  type: string;
  url?: string;
  ids?: string[];
  latencies?: number[];
}

function start(file: string, env: Record<string, string>): { child: ChildProcess; next: (type: string) => Promise<Message> } {
  const profile = process.env.BENCH_PROFILE_DIR && file.includes('server') ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`] : [];
  return forkBench<Message>(file, env, profile);
}

async function run(mode: 'raw' | 'jobwire' | 'poll'): Promise<{ p50: number; p99: number; count: number }> {
  const common = { CLIENTS: String(CLIENTS), JOBS: String(JOBS), TICKS: String(TICKS), TICK_MS: String(TICK_MS) };
  const server = start('./sse-server.ts', { ...common, MODE: mode });
  const ready = await server.next('ready');
  const clients = start('./sse-clients.ts', { ...common, URL_BASE: ready.url!, IDS: ready.ids!.join(','), POLL_MS: mode === 'poll' ? '2000' : '0' });
  await clients.next('started');
  if (mode === 'poll') server.child.send({ type: 'go' });
  const { latencies = [] } = await clients.next('latencies');
  const exited = new Promise((resolve) => server.child.once('exit', resolve));
  server.child.send({ type: 'exit' });
  await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
  server.child.kill();
  clients.child.kill();
  return { p50: percentile(latencies, 50), p99: percentile(latencies, 99), count: latencies.length };
}

// Alternate the two servers over several rounds; report the medians (a shared 2-core machine is noisy).
const ROUNDS = QUICK ? 1 : Number(process.env.ROUNDS ?? 3);
const rawRuns: { p50: number; p99: number }[] = [];
const ourRuns: { p50: number; p99: number }[] = [];
for (let i = 0; i < ROUNDS; i++) {
  rawRuns.push(await run('raw'));
  ourRuns.push(await run('jobwire'));
}
const raw = { p50: median(rawRuns.map((r) => r.p50)), p99: median(rawRuns.map((r) => r.p99)) };
const ours = { p50: median(ourRuns.map((r) => r.p50)), p99: median(ourRuns.map((r) => r.p99)) };
const poll = await run('poll');
const ratio = ours.p99 / raw.p99;
report({
  name: 'sse',
  line:
    `SSE fan-out (${CLIENTS} clients, median of ${ROUNDS} rounds, ${JOBS} jobs, progress every ${TICK_MS} ms): jobwire p50 ${round(ours.p50)} ms / p99 ${round(ours.p99)} ms, ` +
    `raw ServerResponse p50 ${round(raw.p50)} ms / p99 ${round(raw.p99)} ms → p99 ${round(ratio)}× (targets p99 ≤ 10 ms: ${target(ours.p99 <= 10)}, ≤ 1.5× raw: ${target(ratio <= 1.5)}); ` +
    `polling every 2 s learns of completion after p50 ${Math.round(poll.p50)} ms / p99 ${Math.round(poll.p99)} ms`,
  figures: { clients: CLIENTS, jobs: JOBS, ticks: TICKS, tickMs: TICK_MS, jobwireP50: round(ours.p50, 3), jobwireP99: round(ours.p99, 3), rawP50: round(raw.p50, 3), rawP99: round(raw.p99, 3), pollP50: round(poll.p50, 1), pollP99: round(poll.p99, 1), p99Ratio: round(ratio, 3), rounds: ROUNDS, jobwireP99s: ourRuns.map((r) => round(r.p99, 2)), rawP99s: rawRuns.map((r) => round(r.p99, 2)) },
});
