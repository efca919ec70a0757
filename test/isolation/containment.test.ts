import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager } from '../../src/index.js';
import { JobCgroup, useCgroups } from '../../src/isolation/cgroup.js';
import { hasProc } from '../../src/isolation/proc.js';
import { until } from '../helpers/deferred.js';
import { isAlive, ISOLATION_PLUGINS, isolationPlugins, jobLogger, timeOutAfterStart } from '../helpers/isolation.js';

const fixtures = await isolationPlugins();
const cgroupsHere = useCgroups(true);

/** What the `escaper` fixture reports. */
interface Pids {
  worker: number;
  setsid: number;
  detached: number;
  daemon: number;
  envless: number;
}

/** Whether a process sits in a cgroup jobwire made for a job. */
function inJobCgroup(pid: number): boolean {
  try {
    return /\/jobwire-\d+-\d+$/m.test(readFileSync(`/proc/${pid}/cgroup`, 'utf8'));
  } catch {
    return false;
  }
}

describe.each([
  { kind: 'cgroup', available: cgroupsHere },
  { kind: 'tree', available: hasProc },
])('process isolation: programs that leave the process group, contained by $kind', ({ kind, available }) => {

  const started: number[] = [];
  let plugins: LocalPluginManager;
  let tracker: JobTracker;
  let log: ReturnType<typeof jobLogger>;

  beforeAll(() => {
    if (kind === 'tree') useCgroups(false);
  });
  afterAll(() => {
    useCgroups(true);
    // Whatever a failed test left running.
    for (const pid of started) if (isAlive(pid) && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep') process.kill(pid, 'SIGKILL');
  });
  beforeEach(() => {
    plugins = new LocalPluginManager().register(fixtures.escaper!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, cancelGraceMs: 200 });
    log = jobLogger();
    tracker = new JobTracker({ plugins, logger: log.logger });
  });
  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await plugins.close();
  });

  /** The programs that must be gone: all of them in a cgroup; a tree may miss the one with an empty environment. */
  function mustEnd(pids: Pids): number[] {
    started.push(...Object.values(pids));
    return kind === 'cgroup' ? Object.values(pids) : [pids.worker, pids.setsid, pids.detached, pids.daemon];
  }

  async function running(jobId: string): Promise<number[]> {
    await until(() => log.find(jobId, 'pids ') !== undefined, 20_000, 'the programs to start');
    const pids = mustEnd(JSON.parse(log.find(jobId, 'pids ')!) as Pids);
    for (const pid of pids) expect(isAlive(pid)).toBe(true);
    // The containment under test is the one in effect.
    for (const pid of pids) expect(inJobCgroup(pid)).toBe(kind === 'cgroup');
    return pids;
  }

  it.skipIf(!available)('they are gone when the host itself is killed', { timeout: 60_000 }, async () => {
    const host = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/isolation/host.ts', import.meta.url)), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      host.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      await until(() => out.includes('\n'), 30_000, 'the host to start its job');
      const pids = mustEnd(JSON.parse(out) as Pids);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
      for (const pid of pids) expect(inJobCgroup(pid)).toBe(kind === 'cgroup');
      host.kill('SIGKILL');
      await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the worker and its programs to be gone');
    } finally {
      host.kill('SIGKILL');
    }
  });

  it.skipIf(!available)('they are gone when the job completes', async () => {
    const done = await tracker.wait((await tracker.submit('escaper', { then: 'return' })).id);
    expect(done.status).toBe('completed');
    const pids = mustEnd(done.result as Pids);
    await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the programs to be gone');
  });

  it.skipIf(!available)('they are gone when the job is cancelled', async () => {
    const job = await tracker.submit('escaper', { then: 'wait' });
    const pids = await running(job.id);
    await tracker.cancel(job.id);
    await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the programs to be gone');
  });

  it.skipIf(!available)('they are gone when the job times out', { timeout: 120_000 }, async () => {
    const failed = await timeOutAfterStart(tracker, 'escaper', { then: 'wait' }, (jobId) => log.find(jobId, 'pids ') !== undefined);
    expect(failed.error?.code).toBe('TIMEOUT');
    const pids = mustEnd(JSON.parse(log.find(failed.id, 'pids ')!) as Pids);
    await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the programs to be gone');
  });
});

describe('job cgroups', () => {
  it.skipIf(!cgroupsHere)('a worker gone before it could join its cgroup does not turn cgroups off for the next ones', async () => {
    useCgroups(true);
    const gone = spawnSync('true').pid; // exited and reaped: no such process any more
    expect(JobCgroup.adopt(gone)).toBeUndefined();
    const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
    const cgroup = JobCgroup.adopt(sleeper.pid!);
    try {
      expect(cgroup).toBeDefined();
      expect(inJobCgroup(sleeper.pid!)).toBe(true);
    } finally {
      cgroup?.kill();
      sleeper.kill('SIGKILL');
      await cgroup?.remove();
    }
  });
});
