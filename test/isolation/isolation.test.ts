import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { JobTracker, LocalPluginManager, type JobEvent, type RegisterOptions } from '../../src/index.js';
import { testPluginManager } from '../conformance/plugin-manager.js';
import { until } from '../helpers/deferred.js';
import { isAlive, ISOLATION_PLUGINS, isolationPlugins, jobLogger, lineLogger, timeOutAfterStart } from '../helpers/isolation.js';
import { useCgroups } from '../../src/isolation/cgroup.js';
import { hasProc } from '../../src/isolation/proc.js';

const fixtures = await isolationPlugins();
const MODES = ['thread', 'process'] as const;

const opened: LocalPluginManager[] = [];
afterAll(() => Promise.all(opened.map((manager) => manager.close())));

for (const mode of MODES) {
  const options: RegisterOptions = { isolation: mode, module: ISOLATION_PLUGINS };
  testPluginManager(`LocalPluginManager, ${mode} isolation`, {
    make() {
      const manager = new LocalPluginManager()
        .register(fixtures.echo!, undefined, options)
        .register(fixtures.fail!, undefined, options)
        .register(fixtures.off!, undefined, { ...options, enabled: false })
        .register(fixtures.wait!, undefined, options);
      opened.push(manager);
      return manager;
    },
  });
}

describe.each(MODES)('%s isolation', (mode) => {
  let plugins: LocalPluginManager;
  let tracker: JobTracker;
  let lines: string[];

  function setup(register: Record<string, RegisterOptions & { config?: unknown }>, concurrency = 1): void {
    plugins = new LocalPluginManager();
    for (const [name, { config, ...options }] of Object.entries(register)) {
      plugins.register(fixtures[name]!, config, { isolation: mode, module: ISOLATION_PLUGINS, ...options });
    }
    const log = lineLogger();
    lines = log.lines;
    tracker = new JobTracker({ plugins, concurrency, logger: log.logger });
  }

  /** When each job started (real time). */
  function startTimes(): Map<string, number> {
    const times = new Map<string, number>();
    tracker.on('job:started', (event: JobEvent) => times.set(event.jobId, Date.now()));
    return times;
  }

  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await plugins.close();
  });

  it('runs the plugin away from the host with the same context: input, config, job, progress and logs', async () => {
    setup({ identity: { config: { greeting: 'hey' } } });
    const progress: [number, string | undefined][] = [];
    tracker.on('job:progress', (event) => progress.push([event.job.progress, event.job.message]));
    const job = await tracker.submit('identity', { note: 'hi' }, { tenantId: 't1', workspaceId: 'w1', metadata: { file: 'a.wav' } });
    const done = await tracker.wait(job.id);
    expect(done.status).toBe('completed');
    const result = done.result as { pid: number; threadId: number; jobId: string; config: unknown; job: unknown; input: unknown };
    if (mode === 'thread') {
      expect(result.pid).toBe(process.pid);
      expect(result.threadId).toBeGreaterThan(0);
    } else {
      expect(result.pid).not.toBe(process.pid);
    }
    expect(result).toMatchObject({ jobId: job.id, config: { greeting: 'hey' }, input: { note: 'hi' }, job: { tenantId: 't1', workspaceId: 'w1', metadata: { file: 'a.wav' } } });
    expect(progress).toEqual([
      [10, 'starting'],
      [90, 'starting'],
    ]);
    expect(lines).toContain('note hi');
    expect(plugins.getMeta('identity')?.isolation).toBe(mode);
  });

  it.each([
    ['throw', /crashed in its (worker thread|process): thrown outside run/],
    ['reject', /crashed in its (worker thread|process): nobody caught this/],
    ['exit', /process\.exit\(7\) in its worker thread|exited its process with code 7/],
    ['oom', /ran out of memory in its (worker thread|process) \(limit 48 MiB\)/],
    ['unclonable', /returned a value that cannot be sent to the host/],
  ])('a crash (%s) fails only that job with PLUGIN_FAILED; the next job runs', async (kind, message) => {
    // A dying process explains itself on stderr (V8's heap dump): keep it out of the test output.
    const stderr: string[] = [];
    setup({ crash: { resourceLimits: { maxOldGenerationSizeMb: 48 }, stderr: (line) => void stderr.push(line) }, identity: {} });
    const crashed = await tracker.wait((await tracker.submit('crash', { kind })).id);
    expect(crashed.status).toBe('failed');
    expect(crashed.error?.code).toBe('PLUGIN_FAILED');
    expect(crashed.error?.message).toMatch(message);
    const next = await tracker.wait((await tracker.submit('identity', {})).id);
    expect(next.status).toBe('completed');
  });

  it('cancel aborts the plugin first, then force-stops it after cancelGraceMs (within 200 ms more)', async () => {
    const grace = 400;
    setup({ stubborn: { cancelGraceMs: grace }, identity: {} });
    const started = startTimes();
    const stubborn = await tracker.submit('stubborn', {});
    await until(() => lines.some((line) => line.startsWith('worker ')), 10_000, 'the plugin to start');
    const next = await tracker.submit('identity', {});
    const cancelledAt = Date.now();
    expect((await tracker.cancel(stubborn.id)).status).toBe('cancelled');
    expect((await tracker.wait(next.id)).status).toBe('completed');
    const freedAfter = started.get(next.id)! - cancelledAt;
    expect(lines).toContain('abort seen: CANCELLED');
    expect(freedAfter).toBeGreaterThanOrEqual(grace - 20);
    expect(freedAfter).toBeLessThanOrEqual(grace + 200);
  });

  it('a plugin that stops when aborted frees its slot without waiting for the grace', async () => {
    setup({ cooperative: { cancelGraceMs: 10_000 }, identity: {} });
    const started = startTimes();
    const job = await tracker.submit('cooperative', {});
    await until(() => lines.some((line) => line.startsWith('worker ')), 10_000, 'the plugin to start');
    const next = await tracker.submit('identity', {});
    const cancelledAt = Date.now();
    await tracker.cancel(job.id);
    await tracker.wait(next.id);
    expect(started.get(next.id)! - cancelledAt).toBeLessThan(2_000);
  });

  it('a timeout ends the job failed TIMEOUT and force-stops the plugin', async () => {
    setup({ stubborn: { cancelGraceMs: 200 }, identity: {} });
    const started = startTimes();
    const job = await tracker.submit('stubborn', {}, { timeoutMs: 300 });
    const next = await tracker.submit('identity', {});
    const failed = await tracker.wait(job.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    const failedAt = Date.now();
    await tracker.wait(next.id);
    expect(lines).toContain('abort seen: TIMEOUT');
    expect(started.get(next.id)! - failedAt).toBeLessThanOrEqual(200 + 200);
  });

  it('close() stops running isolated jobs at once', async () => {
    setup({ stubborn: {} });
    const job = await tracker.submit('stubborn', {});
    await until(() => lines.some((line) => line.startsWith('worker ')), 10_000, 'the plugin to start');
    await plugins.close();
    const failed = await tracker.wait(job.id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED' } });
  });
});

describe('thread isolation: hard stop', () => {
  it('terminates a thread stuck in a busy loop after the grace', async () => {
    const fixturesPlugins = new LocalPluginManager()
      .register(fixtures.spinner!, undefined, { isolation: 'thread', module: ISOLATION_PLUGINS, cancelGraceMs: 300 })
      .register(fixtures.identity!, undefined, { isolation: 'thread', module: ISOLATION_PLUGINS });
    const tracker = new JobTracker({ plugins: fixturesPlugins, concurrency: 1 });
    try {
      const spinning = await tracker.submit('spinner', {});
      const next = await tracker.submit('identity', {});
      await until(async () => (await tracker.get(spinning.id))?.status === 'running', 5_000, 'the spinner to start');
      const cancelledAt = Date.now();
      await tracker.cancel(spinning.id);
      const done = await tracker.wait(next.id);
      expect(done.status).toBe('completed');
      expect(Date.parse(done.startedAt!) - cancelledAt).toBeLessThanOrEqual(300 + 200);
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await fixturesPlugins.close();
    }
  });
});

describe('process isolation: process groups', () => {
  it('a plugin that started a program leaves no process behind after cancel', async () => {
    const plugins = new LocalPluginManager().register(fixtures.spawner!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, cancelGraceMs: 200 });
    const { lines, logger } = lineLogger();
    const tracker = new JobTracker({ plugins, logger });
    try {
      const job = await tracker.submit('spawner', {});
      await until(() => lines.some((line) => line.startsWith('child ')), 10_000, 'the program to start');
      const pids = ['worker ', 'child '].map((prefix) => Number(lines.find((line) => line.startsWith(prefix))!.slice(prefix.length)));
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
      await tracker.cancel(job.id);
      await until(() => pids.every((pid) => !isAlive(pid)), 2_000, 'the worker and its program to be gone');
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await plugins.close();
    }
  });

  it('a program left running by a plugin that completed is gone with its process', async () => {
    const plugins = new LocalPluginManager().register(fixtures.leaver!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS });
    const tracker = new JobTracker({ plugins });
    try {
      const done = await tracker.wait((await tracker.submit('leaver', {})).id);
      expect(done.status).toBe('completed');
      const { child } = done.result as { child: number };
      await until(() => !isAlive(child), 2_000, 'the program to be gone');
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await plugins.close();
    }
  });
});

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
    if (kind === 'cgroup') for (const pid of pids) expect(inJobCgroup(pid)).toBe(true);
    return pids;
  }

  it.skipIf(!available)('they are gone when the host itself is killed', async () => {
    const host = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/isolation/host.ts', import.meta.url)), kind], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      let out = '';
      host.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      await until(() => out.includes('\n'), 30_000, 'the host to start its job');
      const pids = mustEnd(JSON.parse(out) as Pids);
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
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

  it.skipIf(!available)('they are gone when the job times out', async () => {
    const failed = await timeOutAfterStart(tracker, 'escaper', { then: 'wait' }, (jobId) => log.find(jobId, 'pids ') !== undefined);
    expect(failed.error?.code).toBe('TIMEOUT');
    const pids = mustEnd(JSON.parse(log.find(failed.id, 'pids ')!) as Pids);
    await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the programs to be gone');
  });
});

describe('process isolation: stderr', () => {
  let written: string[] = [];
  let spy: MockInstance<typeof process.stderr.write> | undefined;
  beforeEach(() => {
    written = [];
    // Kept, not printed: what reaches the host's stderr is what these tests look at.
    spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stderr.write);
  });
  afterEach(() => spy?.mockRestore());

  async function run(plugin: string, options: RegisterOptions, input: unknown = {}) {
    const plugins = new LocalPluginManager().register(fixtures[plugin]!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, ...options });
    const tracker = new JobTracker({ plugins });
    try {
      return await tracker.wait((await tracker.submit(plugin, input)).id);
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await plugins.close();
    }
  }

  it('a stderr function takes each line with its job, and nothing reaches the host\'s stderr', async () => {
    const lines: [string, string, string][] = [];
    const done = await run('noisy', { stderr: (line, { plugin, jobId }) => void lines.push([line, plugin, jobId]) });
    expect(done.status).toBe('completed');
    await until(() => lines.length === 3, 10_000, 'the last line, flushed when the pipe closes');
    expect(lines).toEqual(['first line', 'second line', 'no line ending'].map((line) => [line, 'noisy', done.id]));
    expect(written.join('')).not.toMatch(/first line|no line ending/);
  });

  it('an out-of-memory death: the heap dump goes to the stderr function, the job says why it failed', async () => {
    const lines: string[] = [];
    const failed = await run('crash', { resourceLimits: { maxOldGenerationSizeMb: 48 }, stderr: (line) => void lines.push(line) }, { kind: 'oom' });
    expect(failed.error?.message).toMatch(/ran out of memory in its process \(limit 48 MiB\)/);
    expect(lines.join('\n')).toMatch(/FATAL ERROR.*heap out of memory|Reached heap limit/);
    expect(written.join('')).not.toMatch(/heap out of memory|Reached heap limit/);
  });

  it("'ignore' drops it; 'inherit' (the default) copies it to the host's stderr", async () => {
    expect((await run('noisy', { stderr: 'ignore' })).status).toBe('completed');
    expect((await run('noisy', {})).status).toBe('completed');
    await until(() => written.join('').includes('no line ending'), 10_000, 'the inherited output');
    expect(written.join('').match(/first line/g)).toHaveLength(1);
  });

  it('refuses anything else with INVALID_CONFIG', () => {
    const register = () => new LocalPluginManager().register(fixtures.noisy!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, stderr: 'pipe' as never });
    expect(register).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/`stderr` must be 'inherit', 'ignore' or a function/) }));
  });
});

describe('thread isolation: module format', () => {
  it('a TypeScript module that a worker thread cannot import fails its job with a hint', async () => {
    const { typed } = await import('../fixtures/isolation/typed.js');
    const plugins = new LocalPluginManager().register(typed, undefined, { isolation: 'thread', module: new URL('../fixtures/isolation/typed.ts', import.meta.url) });
    const tracker = new JobTracker({ plugins });
    try {
      const failed = await tracker.wait((await tracker.submit('typed', {})).id);
      expect(failed.error?.code).toBe('PLUGIN_FAILED');
      expect(failed.error?.message).toMatch(/worker threads import plain JavaScript only/);
    } finally {
      await tracker.close();
      await plugins.close();
    }
  });
});

describe('unregister and close', () => {
  it('close() still stops the running jobs of a plugin unregistered meanwhile', async () => {
    const plugins = new LocalPluginManager().register(fixtures.spawner!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS });
    const { lines, logger } = lineLogger();
    const tracker = new JobTracker({ plugins, logger });
    try {
      const job = await tracker.submit('spawner', {});
      await until(() => lines.some((line) => line.startsWith('child ')), 10_000, 'the program to start');
      const child = Number(lines.find((line) => line.startsWith('child '))!.slice('child '.length));
      expect(plugins.unregister('spawner')).toBe(true);
      await plugins.close();
      expect((await tracker.wait(job.id)).error?.code).toBe('PLUGIN_FAILED');
      await until(() => !isAlive(child), 2_000, 'the program to be gone');
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });
});
