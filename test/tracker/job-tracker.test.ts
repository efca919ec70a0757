import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError, JobTracker, LocalPluginManager, MemoryBackend, MemoryResultStorage, type Logger, type ResultStorage, type StorageFailedEvent } from '../../src/index.js';
import { MockPluginManager } from '../../src/testing/index.js';
import { collect } from '../helpers/deferred.js';
import { codeOf } from '../helpers/codes.js';
import { statusEvents } from '../helpers/events.js';

function captureLogger() {
  const lines: { level: string; obj: object; msg: string | undefined }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => lines.push({ level, obj, msg });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

describe('JobTracker on the memory backend (fake timers)', () => {
  let tracker: JobTracker | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    const closing = tracker?.close({ timeoutMs: 0 });
    await vi.runAllTimersAsync();
    await closing;
    tracker = undefined;
    vi.useRealTimers();
  });

  it('checks its options', () => {
    const plugins = new MockPluginManager();
    expect(() => new JobTracker({} as never)).toThrow(/PluginManager/);
    for (const bad of [{ concurrency: 0 }, { concurrency: 1.5 }, { maxQueued: -1 }, { ttlMs: -1 }, { sweepIntervalMs: 0 }, { statsWindowMs: 10 }, { statsWindowMs: 1.5e3 + 0.5 }, { now: 5 }]) {
      let code: string | undefined;
      try {
        new JobTracker({ plugins, ...(bad as object) });
      } catch (error) {
        code = isJobwireError(error) ? error.code : undefined;
      }
      expect(code, JSON.stringify(bad)).toBe('INVALID_CONFIG');
    }
  });

  it('finished jobs are removed ttlMs after finishing, by the sweep and for every reader at once', async () => {
    const plugins = new MockPluginManager({ quick: { result: 1 } });
    const removed: string[] = [];
    tracker = new JobTracker({ plugins, ttlMs: 10_000, sweepIntervalMs: 60_000 });
    tracker.on('job:removed', (e) => removed.push(e.jobId));
    const job = await tracker.submit('quick', {});
    const done = await tracker.wait(job.id);
    expect(Date.parse(done.expiresAt!) - Date.parse(done.finishedAt!)).toBe(10_000);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(await tracker.get(job.id)).toBeDefined();
    await vi.advanceTimersByTimeAsync(1);
    // Expired: no longer listed or readable even before the sweep runs.
    expect((await tracker.list()).jobs).toEqual([]);
    expect(await tracker.get(job.id)).toBeUndefined();
    expect(removed).toEqual([job.id]);
    expect((await tracker.stats()).total).toBe(0);
  });

  it('the sweep removes expired jobs without anyone asking, and only those', async () => {
    const plugins = new MockPluginManager({ quick: { result: 1 } });
    const backend = new MemoryBackend();
    const removed: string[] = [];
    tracker = new JobTracker({ plugins, backend, ttlMs: 1_000, sweepIntervalMs: 5_000 });
    tracker.on('job:removed', (e) => removed.push(e.jobId));
    const early = await tracker.submit('quick', {});
    await tracker.wait(early.id);
    await vi.advanceTimersByTimeAsync(4_500);
    const late = await tracker.submit('quick', {});
    await tracker.wait(late.id);
    await vi.advanceTimersByTimeAsync(500); // sweep at t=5000: early expired at 1000, late expires at 5500
    expect(removed).toEqual([early.id]);
    expect((await tracker.stats()).total).toBe(1);
    expect(backend.sweep()).toBe(0);
  });

  it('the sweep timer does not keep the process alive', () => {
    vi.useRealTimers();
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    tracker = new JobTracker({ plugins: new MockPluginManager(), sweepIntervalMs: 1_000 });
    const after = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    expect(after).toBe(before);
    vi.useFakeTimers();
  });

  it('maxQueued: a submit beyond it gets QUEUE_FULL and stores nothing', async () => {
    const plugins = new MockPluginManager({ slow: { delayMs: 1_000, result: 'ok' } });
    tracker = new JobTracker({ plugins, concurrency: 1, maxQueued: 2 });
    const running = await tracker.submit('slow', {});
    await tracker.submit('slow', {});
    await tracker.submit('slow', {});
    expect(await codeOf(tracker.submit('slow', {}))).toBe('QUEUE_FULL');
    expect(await tracker.stats()).toMatchObject({ running: 1, queued: 2, total: 3 });
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await tracker.get(running.id))?.status).toBe('completed');
    expect((await tracker.submit('slow', {})).status).toBe('queued');
  });

  it('maxQueued: 0 still accepts a job a free slot starts at once', async () => {
    tracker = new JobTracker({ plugins: new MockPluginManager({ slow: { delayMs: 100 } }), concurrency: 1, maxQueued: 0 });
    await tracker.submit('slow', {});
    expect(await codeOf(tracker.submit('slow', {}))).toBe('QUEUE_FULL');
  });

  it('a plugin concurrency cap holds under the global one without blocking other plugins', async () => {
    let running = 0;
    let peak = 0;
    const capped = definePlugin({
      name: 'capped',
      concurrency: 1,
      input: z.object({}),
      async run() {
        running++;
        peak = Math.max(peak, running);
        await new Promise((resolve) => setTimeout(resolve, 100));
        running--;
      },
    });
    const free = definePlugin({ name: 'free', input: z.object({}), run: () => new Promise((resolve) => setTimeout(resolve, 10)) });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(capped).register(free), concurrency: 4 });
    const cappedJobs = await Promise.all([1, 2, 3].map(() => tracker!.submit(capped, {})));
    const freeJob = await tracker.submit(free, {});
    await vi.advanceTimersByTimeAsync(10);
    expect((await tracker.get(freeJob.id))?.status).toBe('completed');
    expect((await tracker.stats()).running).toBe(1);
    await vi.advanceTimersByTimeAsync(300);
    for (const job of cappedJobs) expect((await tracker.get(job.id))?.status).toBe('completed');
    expect(peak).toBe(1);
  });

  it('timeout with a plugin default and a per-job override', async () => {
    const plugins = new MockPluginManager({ slow: { delayMs: 10_000, meta: { timeoutMs: 500 } } });
    tracker = new JobTracker({ plugins });
    const byDefault = await tracker.submit('slow', {});
    const overridden = await tracker.submit('slow', {}, { timeoutMs: 2_000 });
    await vi.advanceTimersByTimeAsync(500);
    expect(await tracker.get(byDefault.id)).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT', message: 'Job timed out after 500 ms' } });
    expect((await tracker.get(overridden.id))?.status).toBe('running');
    await vi.advanceTimersByTimeAsync(1_500);
    expect((await tracker.get(overridden.id))?.error?.code).toBe('TIMEOUT');
    expect(plugins.calls.every((call) => call.aborted)).toBe(true);
  });

  it('close gives running jobs timeoutMs, then cancels them with CLOSED', async () => {
    const plugins = new MockPluginManager({ slow: { delayMs: 5_000, result: 'late' }, quick: { delayMs: 100, result: 'ok' } });
    tracker = new JobTracker({ plugins, concurrency: 2 });
    const slow = await tracker.submit('slow', {});
    const quick = await tracker.submit('quick', {});
    const queued = await tracker.submit('quick', {});
    const closing = tracker.close({ timeoutMs: 1_000 });
    expect(await tracker.get(queued.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
    await vi.advanceTimersByTimeAsync(1_000);
    await closing;
    expect((await tracker.get(quick.id))?.status).toBe('completed');
    expect(await tracker.get(slow.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
    expect(await codeOf(tracker.submit('quick', {}))).toBe('CLOSED');
    expect(tracker.close()).toBe(closing);
  });

  it('progress: clamped to 0..100; a non-number fails the job; ignored once the job ended', async () => {
    let late: ((p: number) => void) | undefined;
    const plugin = definePlugin({
      name: 'prog',
      input: z.object({ bad: z.boolean() }),
      async run(input, ctx) {
        ctx.progress(-5);
        ctx.progress(250, 'too far');
        late = (p) => ctx.progress(p);
        if (input.bad) ctx.progress('half' as never);
        return 'done';
      },
    });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin) });
    const ok = await tracker.submit(plugin, { bad: false });
    const events = statusEvents(await collect(tracker.events(ok.id)));
    expect(events.filter((e) => e.type === 'progress').map((e) => e.job.progress)).toEqual([100]);
    late!(10);
    expect((await tracker.get(ok.id))?.progress).toBe(100);
    const bad = await tracker.wait((await tracker.submit(plugin, { bad: true })).id);
    expect(bad.error).toEqual({ code: 'PLUGIN_FAILED', message: 'ctx.progress expects a number from 0 to 100, got "half"' });
  });

  it('keeps the event log bounded: consecutive progress events coalesce, status events stay', async () => {
    const plugin = definePlugin({
      name: 'chatty',
      input: z.object({}),
      async run(_input, ctx) {
        for (let i = 0; i < 10_000; i++) ctx.progress(i / 100);
        await new Promise((resolve) => setTimeout(resolve, 1));
        return 'ok';
      },
    });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin) });
    const job = await tracker.submit(plugin, {});
    await vi.advanceTimersByTimeAsync(1);
    const events = statusEvents(await collect(tracker.events(job.id)));
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'completed']);
    // A burst of reports is written as its latest one: the log holds one progress entry, with the newest value.
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events[2]!.job.progress).toBe(99.99);
  });

  it('a slow reader gets the newest progress instead of a growing backlog; a prompt one gets every step', async () => {
    const plugin = definePlugin({
      name: 'steps',
      input: z.object({}),
      async run(_input, ctx) {
        for (let i = 1; i <= 5; i++) {
          await new Promise((resolve) => setTimeout(resolve, 10));
          ctx.progress(i * 20);
        }
      },
    });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin) });
    const job = await tracker.submit(plugin, {});
    const slow = tracker.events(job.id);
    const promptEvents: number[] = [];
    const prompt = (async () => {
      for await (const event of tracker!.events(job.id)) promptEvents.push(event.seq);
    })();
    await vi.advanceTimersByTimeAsync(100);
    await prompt;
    expect(promptEvents).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const slowEvents = await collect(slow);
    expect(slowEvents.map((e) => [e.seq, e.type])).toEqual([
      [1, 'queued'],
      [2, 'started'],
      [7, 'progress'],
      [8, 'completed'],
    ]);
  });

  it('events: an invalid afterSeq rejects the first next() with INVALID_REQUEST', async () => {
    tracker = new JobTracker({ plugins: new MockPluginManager({ a: {} }) });
    const job = await tracker.submit('a', {});
    expect(await codeOf(tracker.events(job.id, { afterSeq: -1 }).next())).toBe('INVALID_REQUEST');
    expect(await codeOf(tracker.events(job.id, { afterSeq: 1.5 }).next())).toBe('INVALID_REQUEST');
  });

  it('events() supports `await using` disposal and frees its subscription', async () => {
    tracker = new JobTracker({ plugins: new MockPluginManager({ slow: { delayMs: 1_000 } }) });
    const job = await tracker.submit('slow', {});
    const iterator = tracker.events(job.id);
    await iterator.next();
    await (iterator as unknown as AsyncDisposable)[Symbol.asyncDispose]();
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });

  describe('storage failures', () => {
    function flakyStorage(failures: number) {
      const inner = new MemoryResultStorage();
      let attempts = 0;
      const storage: ResultStorage = {
        async save(record) {
          attempts++;
          if (attempts <= failures) throw new Error(`disk full #${attempts}`);
          await inner.save(record);
        },
        get: (id) => inner.get(id),
        list: (q) => inner.list(q),
        delete: (id) => inner.delete(id),
      };
      return { storage, inner, attempts: () => attempts };
    }

    it('a failed save does not lose the job: completed, reported, retried until saved once', async () => {
      const { storage, inner, attempts } = flakyStorage(2);
      const { logger, lines } = captureLogger();
      const failures: StorageFailedEvent[] = [];
      tracker = new JobTracker({ plugins: new MockPluginManager({ a: { result: { v: 1 } } }), storage, logger });
      tracker.on('job:storage-failed', (e) => failures.push(e));
      const job = await tracker.submit('a', {});
      const done = await tracker.wait(job.id);
      expect(done).toMatchObject({ status: 'completed', result: { v: 1 } });
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ jobId: job.id, attempt: 1, willRetry: true });
      expect(failures[0]!.error.code).toBe('STORAGE_FAILED');
      expect(await inner.get(job.id)).toBeUndefined();
      await vi.advanceTimersByTimeAsync(200);
      expect(failures.map((f) => f.attempt)).toEqual([1, 2]);
      await vi.advanceTimersByTimeAsync(1_000);
      expect(attempts()).toBe(3);
      expect(await inner.get(job.id)).toMatchObject({ jobId: job.id, result: { v: 1 } });
      expect(lines.filter((l) => l.level === 'error').map((l) => (l.obj as { jobId: string }).jobId)).toEqual([job.id, job.id]);
    });

    it('gives up after the last retry and says so', async () => {
      const { storage, attempts } = flakyStorage(100);
      const failures: StorageFailedEvent[] = [];
      tracker = new JobTracker({ plugins: new MockPluginManager({ a: { result: 1 } }), storage });
      tracker.on('job:storage-failed', (e) => failures.push(e));
      await tracker.wait((await tracker.submit('a', {})).id);
      await vi.advanceTimersByTimeAsync(10_000);
      expect(attempts()).toBe(4);
      expect(failures.at(-1)).toMatchObject({ attempt: 4, willRetry: false });
    });
  });

  it('submit accepts the plugin definition itself, and checks options strictly', async () => {
    const plugin = definePlugin({ name: 'typed', input: z.object({ n: z.number() }), run: (input) => input.n * 2 });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin) });
    const job = await tracker.submit(plugin, { n: 21 });
    expect((await tracker.wait(job.id)).result).toBe(42);
    for (const options of [{ tenantId: '' }, { timeoutMs: 0 }, { timeoutMs: 2 ** 31 }, { metadata: [] }, { metadata: new Date() }, { idempotencyKey: 5 }, { typo: 1 }]) {
      expect(await codeOf(tracker.submit(plugin, { n: 1 }, options as never)), JSON.stringify(options)).toBe('INVALID_REQUEST');
    }
    expect(await codeOf(tracker.list({ limit: 0 }))).toBe('INVALID_REQUEST');
    expect((await tracker.list({ limit: 5_000 })).jobs).toHaveLength(1);
  });

  it('uses the injected clock for every time it reports', async () => {
    let clock = Date.UTC(2030, 0, 1);
    tracker = new JobTracker({ plugins: new MockPluginManager({ a: { result: 1 } }), now: () => clock, ttlMs: 1_000 });
    const job = await tracker.submit('a', {});
    expect(job.createdAt).toBe('2030-01-01T00:00:00.000Z');
    const done = await tracker.wait(job.id);
    expect(done.expiresAt).toBe('2030-01-01T00:00:01.000Z');
    clock += 1_000;
    expect(await tracker.get(job.id)).toBeUndefined();
  });
});
