#!/usr/bin/env node
// Runs the timing-sensitive suites several times (3 unless a count is given) while one busy process
// per CPU keeps every core loaded, and prints each run's vitest counts and a summary line. A test
// that only passes on a quiet machine fails here. Usage: npm run test:stress [-- runs]
//
// The busy processes are started and stopped here: killed when the runs end, when this script is
// interrupted (Ctrl-C, SIGTERM, SIGHUP) and, should it be killed outright, by themselves as soon as
// they see they lost their parent.
import { spawn } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';

const SUITES = ['test/isolation', 'test/e2e', 'test/bullmq', 'test/faults', 'test/sse', 'test/http', 'test/retry', 'test/schedule', 'test/output', 'test/client', 'test/react', 'test/dashboard'];
const root = resolve(import.meta.dirname, '..');
const runs = Number(process.argv[2] ?? 3);
if (!Number.isInteger(runs) || runs < 1) {
  console.error(`Expected a number of runs (a positive integer), got ${process.argv[2]}`);
  process.exit(2);
}

// Spins for ~0.1 s at a time, then checks it still has its parent.
const HOG = 'const parent = process.ppid; for (;;) { const end = Date.now() + 100; while (Date.now() < end); if (process.ppid !== parent) process.exit(0); }';
const hogs = Array.from({ length: availableParallelism() }, () => spawn(process.execPath, ['-e', HOG], { stdio: 'ignore' }));
const stopHogs = () => {
  for (const hog of hogs) if (hog.exitCode === null && hog.signalCode === null) hog.kill('SIGKILL');
};
process.on('exit', stopHogs);

let vitest;
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    stopHogs();
    console.log(`\nstress: interrupted (${signal}); busy processes stopped`);
    if (!vitest || vitest.exitCode !== null) process.exit(130);
    vitest.kill('SIGTERM');
    setTimeout(() => vitest.kill('SIGKILL'), 10_000).unref();
    vitest.once('exit', () => process.exit(130));
  });
}

const logs = mkdtempSync(join(tmpdir(), 'jobwire-stress-'));
console.log(`stress: ${runs} runs of ${SUITES.join(' ')} with ${hogs.length} busy processes (one per CPU); vitest output in ${logs}`);

/** One vitest run; its JSON report, or undefined when vitest wrote none. */
function runOnce(run) {
  const report = join(logs, `run-${run}.json`);
  const log = join(logs, `run-${run}.log`);
  return new Promise((done) => {
    const vitestBin = join(root, 'node_modules', '.bin', 'vitest');
    const args = ['run', ...SUITES, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`];
    const out = openSync(log, 'w');
    vitest = spawn(vitestBin, args, { cwd: root, stdio: ['ignore', out, out] });
    vitest.once('exit', (code) => {
      closeSync(out);
      let parsed;
      try {
        parsed = JSON.parse(readFileSync(report, 'utf8'));
      } catch {
        // No report: vitest itself failed (the log says why).
      }
      done({ code, report: parsed, log });
    });
  });
}

const totals = { passed: 0, failed: 0, skipped: 0, broken: 0 };
for (let run = 1; run <= runs && !interrupted; run++) {
  const started = Date.now();
  const { code, report, log } = await runOnce(run);
  if (interrupted) break;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (!report) {
    totals.broken++;
    console.log(`run ${run}/${runs}: vitest exited ${code} without a report (${seconds} s) — see ${log}`);
    continue;
  }
  const skipped = report.numPendingTests + report.numTodoTests;
  // A file that fails outside its tests (an import, a hook) counts as failed too.
  const brokenFiles = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.every((test) => test.status !== 'failed'));
  totals.passed += report.numPassedTests;
  totals.failed += report.numFailedTests + brokenFiles.length;
  totals.skipped += skipped;
  console.log(`run ${run}/${runs}: ${report.numPassedTests} passed, ${report.numFailedTests} failed, ${skipped} skipped, ${brokenFiles.length} files failed outside tests (${seconds} s)`);
  for (const file of report.testResults) {
    const name = relative(root, file.name);
    for (const test of file.assertionResults) if (test.status === 'failed') console.log(`  ✗ ${name} › ${test.fullName}`);
    if (brokenFiles.includes(file)) console.log(`  ✗ ${name}: ${(file.message ?? '').split('\n')[0]}`);
  }
}
stopHogs();
if (!interrupted) {
  const bad = totals.failed + totals.broken;
  console.log(`stress: ${runs} runs, ${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped${totals.broken ? `, ${totals.broken} runs without a report` : ''} — ${bad === 0 ? 'all green' : 'NOT green'}`);
  process.exitCode = bad === 0 ? 0 : 1;
}
