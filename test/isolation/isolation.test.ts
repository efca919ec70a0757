import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager, type JobEvent, type RegisterOptions } from '../../src/index.js';
import { testPluginManager } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { isAlive, ISOLATION_PLUGINS, isolationPlugins, jobLogger, lineLogger, timeOutAfterStart } from '../helpers/isolation.js';

const fixtures = await isolationPlugins();
const MODES = ['thread', 'process'] as const;

const opened: LocalPluginManager[] = [];
afterAll(() => Promise.all(opened.map((manager) => manager.close())));

for (const mode of MODES) {
  // A grace far past the test's timeout: the abort test then passes only if the plugin lets go itself.
  const options: RegisterOptions = { isolation: mode, module: ISOLATION_PLUGINS, cancelGraceMs: 600_000 };
  await testPluginManager(`LocalPluginManager, ${mode} isolation`, {
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
  let log: ReturnType<typeof jobLogger>;
  /** Every line the plugins logged, in order. */
  const lines = (): string[] => log.lines.map((entry) => entry.line);

  function setup(register: Record<string, RegisterOptions & { config?: unknown }>, concurrency = 1): void {
    plugins = new LocalPluginManager();
    for (const [name, { config, ...options }] of Object.entries(register)) {
      plugins.register(fixtures[name]!, config, { isolation: mode, module: ISOLATION_PLUGINS, ...options });
    }
    log = jobLogger();
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
    expect(lines()).toContain('note hi');
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

  it.each([
    ['nan', 'NaN'],
    ['string', '"half"'],
  ])('ctx.progress(%s) from a timer fails only that job with PLUGIN_FAILED; the host and the next job run on', async (value, shown) => {
    setup({ ticker: {}, identity: {} });
    const failed = await tracker.wait((await tracker.submit('ticker', { value })).id);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message: `ctx.progress expects a number from 0 to 100, got ${shown}` } });
    expect((await tracker.wait((await tracker.submit('identity', {})).id)).status).toBe('completed');
  });

  /** In a process, the worker named by a job's `worker <pid>` line is gone (a thread's pid is the host's). */
  async function workerGone(jobId: string): Promise<void> {
    if (mode !== 'process') return;
    const pid = Number(log.find(jobId, 'worker ')!.split(' ')[0]);
    await until(() => !isAlive(pid), 10_000, `worker ${pid} to be gone`);
  }

  it('cancel aborts the plugin first, then force-stops it once cancelGraceMs has passed', async () => {
    // Long enough for the abort's log line to cross back on a loaded machine before the hard stop.
    const grace = 1_000;
    setup({ stubborn: { cancelGraceMs: grace }, identity: {} });
    const started = startTimes();
    const stubborn = await tracker.submit('stubborn', {});
    await until(() => log.find(stubborn.id, 'worker ') !== undefined, 30_000, 'the plugin to start');
    const next = await tracker.submit('identity', {});
    const cancelledAt = Date.now();
    expect((await tracker.cancel(stubborn.id)).status).toBe('cancelled');
    // The plugin never settles by itself: the next job can only run once it was stopped hard.
    expect((await tracker.wait(next.id)).status).toBe('completed');
    expect(log.find(stubborn.id, 'abort seen: ')).toBe('CANCELLED');
    // Not before its grace (load can only make it later; how much later is for bench/ to measure).
    expect(started.get(next.id)! - cancelledAt).toBeGreaterThanOrEqual(grace - 20);
    await workerGone(stubborn.id);
  });

  it('a plugin that stops when aborted frees its slot without waiting for the grace', async () => {
    // A grace far beyond this test's own time limit: finishing at all shows it was not waited for.
    setup({ cooperative: { cancelGraceMs: 600_000 }, identity: {} });
    const job = await tracker.submit('cooperative', {});
    await until(() => log.find(job.id, 'worker ') !== undefined, 30_000, 'the plugin to start');
    const next = await tracker.submit('identity', {});
    await tracker.cancel(job.id);
    expect((await tracker.wait(next.id, { timeoutMs: 15_000 })).status).toBe('completed');
    await workerGone(job.id);
  });

  it('a timeout aborts the plugin with TIMEOUT, then force-stops it: the job fails TIMEOUT and the next one runs', { timeout: 120_000 }, async () => {
    setup({ stubborn: { cancelGraceMs: 1_000 }, identity: {} });
    const failed = await timeOutAfterStart(tracker, 'stubborn', {}, (jobId) => log.find(jobId, 'worker ') !== undefined);
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    // The job turned failed at the timeout; the abort reaches the plugin just after.
    await until(() => log.find(failed.id, 'abort seen: ') !== undefined, 10_000, 'the abort to reach the plugin');
    expect(log.find(failed.id, 'abort seen: ')).toBe('TIMEOUT');
    expect((await tracker.wait((await tracker.submit('identity', {})).id)).status).toBe('completed');
    await workerGone(failed.id);
  });

  it('a timeout that fires before the plugin has started still ends the job failed TIMEOUT and frees its slot', async () => {
    setup({ stubborn: {}, identity: {} });
    // 1 ms: over before any worker can have imported the plugin.
    const job = await tracker.submit('stubborn', {}, { timeoutMs: 1 });
    const next = await tracker.submit('identity', {});
    expect(await tracker.wait(job.id)).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
    expect((await tracker.wait(next.id)).status).toBe('completed');
    expect(log.find(job.id, 'worker ')).toBeUndefined();
  });

  it('close() stops running isolated jobs at once', async () => {
    setup({ stubborn: {} });
    const job = await tracker.submit('stubborn', {});
    await until(() => log.find(job.id, 'worker ') !== undefined, 30_000, 'the plugin to start');
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
    const { lines, logger } = lineLogger();
    const tracker = new JobTracker({ plugins: fixturesPlugins, concurrency: 1, logger });
    try {
      const spinning = await tracker.submit('spinner', {});
      const next = await tracker.submit('identity', {});
      await until(() => lines.includes('spinning'), 30_000, 'the spinner to spin');
      const cancelledAt = Date.now();
      await tracker.cancel(spinning.id);
      // The spinner never returns: the next job runs only once its thread was terminated, not before the grace.
      const done = await tracker.wait(next.id);
      expect(done.status).toBe('completed');
      expect(Date.parse(done.startedAt!) - cancelledAt).toBeGreaterThanOrEqual(300 - 20);
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
      await until(() => lines.some((line) => line.startsWith('child ')), 30_000, 'the program to start');
      const pids = ['worker ', 'child '].map((prefix) => Number(lines.find((line) => line.startsWith(prefix))!.slice(prefix.length)));
      for (const pid of pids) expect(isAlive(pid)).toBe(true);
      await tracker.cancel(job.id);
      await until(() => pids.every((pid) => !isAlive(pid)), 10_000, 'the worker and its program to be gone');
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
      await until(() => !isAlive(child), 10_000, 'the program to be gone');
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await plugins.close();
    }
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
      await until(() => lines.some((line) => line.startsWith('child ')), 30_000, 'the program to start');
      const child = Number(lines.find((line) => line.startsWith('child '))!.slice('child '.length));
      expect(plugins.unregister('spawner')).toBe(true);
      await plugins.close();
      expect((await tracker.wait(job.id)).error?.code).toBe('PLUGIN_FAILED');
      await until(() => !isAlive(child), 10_000, 'the program to be gone');
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });
});
