#!/usr/bin/env node
// How long a `process` plugin takes to start: fork → the worker process runs → the plugin module is
// loaded → its first progress reaches the host. Runs the probe plugin N times (20 unless given),
// one job at a time, and prints the median and the range of each phase, beside a bare node process
// started with the same flags.
//
//   node scripts/process-start.mjs [runs]                  built jobwire, a .mjs plugin
//   npx tsx scripts/process-start.mjs [runs]               the same under tsx (workers inherit its loader)
//   npx tsx scripts/process-start.mjs [runs] --typescript  under tsx, a .ts plugin
//
// Build first (npm run build): the workers are jobwire's built entries.
import { spawn } from 'node:child_process';
import { LocalPluginManager } from 'jobwire';

const runs = Number(process.argv.find((arg) => /^\d+$/.test(arg)) ?? 20);
const typescript = process.argv.includes('--typescript');
const module = new URL(typescript ? './process-start/probe.ts' : './process-start/probe.mjs', import.meta.url);
const loader = process.execArgv.some((flag) => flag.includes('tsx')) ? 'tsx' : 'node';

const plugins = new LocalPluginManager();
await plugins.load(module);
const phases = { fork: [], load: [], report: [], total: [] };
for (let run = 0; run < runs; run++) {
  const forkedAt = performance.timeOrigin + performance.now();
  let first;
  const signal = new AbortController().signal;
  await plugins.execute('probe', {}, {
    jobId: `probe${run}`,
    signal,
    progress: (_percent, message) => {
      first ??= { at: performance.timeOrigin + performance.now(), ...JSON.parse(message) };
    },
    log() {},
    job: { metadata: {} },
  });
  phases.fork.push(first.startedAt - forkedAt);
  phases.load.push(first.loadedAt - first.startedAt);
  phases.report.push(first.at - first.loadedAt);
  phases.total.push(first.at - forkedAt);
}
await plugins.close();

// The anchor: a bare node process with the same flags (a loader included) that says hello over IPC.
const bare = [];
for (let run = 0; run < runs; run++) {
  const forkedAt = performance.now();
  const child = spawn(process.execPath, [...process.execArgv, '-e', 'process.send("hello", () => process.disconnect())'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await new Promise((resolve) => child.once('message', resolve));
  bare.push(performance.now() - forkedAt);
  await new Promise((resolve) => child.once('exit', resolve));
}

const ms = (value) => `${Math.round(value)} ms`;
const summary = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `median ${ms(sorted[Math.floor(sorted.length / 2)])} (${ms(sorted[0])}–${ms(sorted.at(-1))})`;
};
console.log(`process start-up, ${loader}, ${typescript ? '.ts' : '.mjs'} plugin, ${runs} jobs one at a time:`);
console.log(`  fork → process running:        ${summary(phases.fork)}`);
console.log(`  process running → module loaded: ${summary(phases.load)}`);
console.log(`  module loaded → first progress at the host: ${summary(phases.report)}`);
console.log(`  fork → first progress:          ${summary(phases.total)}`);
console.log(`  anchor, a bare node process with the same flags, spawn → its first IPC message: ${summary(bare)}`);
