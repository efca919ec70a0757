import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker, MemoryResultStorage, isJobwireError, type JobEvent, type JobTrackerOptions, type ResultStorage } from '../../src/index.js';
import { collect, until } from '../helpers/deferred.js';
import { createFixturePlugins, type FixturePlugins } from './fixture-plugins.js';

/** How a backend's test file plugs into the shared suite. */
export interface BackendFixture {
  /** Build a tracker on the backend under test with these options (plugins included). */
  makeTracker(options: Omit<JobTrackerOptions, 'backend'>): JobTracker | Promise<JobTracker>;
  /** Called after each test, after the tracker is closed. */
  cleanup?(): Promise<void>;
  /**
   * Distributed backends: the queue outlives one process, so `close()` leaves waiting jobs for
   * other workers instead of cancelling them, and a closed tracker cannot read any more.
   * `observe()` opens a second tracker on the same store to check state after a close.
   */
  shared?: { observe(options: Omit<JobTrackerOptions, 'backend'>): Promise<JobTracker> };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

/**
 * The behaviour every job backend must show through the JobTracker API. Real time, no fake
 * timers, so distributed backends can run it too.
 */
export function testJobBackend(name: string, fixture: BackendFixture): void {
  describe(`job backend conformance: ${name}`, () => {
    let tracker: JobTracker | undefined;
    let fx: FixturePlugins;

    async function setup(options: Partial<Omit<JobTrackerOptions, 'backend' | 'plugins'>> = {}): Promise<JobTracker> {
      fx = createFixturePlugins();
      tracker = await fixture.makeTracker({ plugins: fx.plugins, ...options });
      return tracker;
    }

    const observers: JobTracker[] = [];

    afterEach(async () => {
      // Open every gate so nothing keeps running after the test.
      await tracker?.close({ timeoutMs: 0 });
      tracker = undefined;
      await Promise.all(observers.splice(0).map((observer) => observer.close({ timeoutMs: 0 })));
      await fixture.cleanup?.();
    });

    it('submit resolves at once with a queued snapshot, and the job completes', async () => {
      const t = await setup();
      const job = await t.submit('echo', { text: 'hi' }, { tenantId: 't1', workspaceId: 'w1', metadata: { a: 1 }, priority: 3 });
      expect(job).toMatchObject({ plugin: 'echo', status: 'queued', progress: 0, input: { text: 'hi' }, tenantId: 't1', workspaceId: 'w1', metadata: { a: 1 }, priority: 3 });
      expect(job.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
      expect(Number.isNaN(Date.parse(job.createdAt))).toBe(false);
      const done = await t.wait(job.id, { timeoutMs: 5_000 });
      expect(done).toMatchObject({ id: job.id, status: 'completed', progress: 100, result: { echo: 'hi' } });
      expect(done.finishedAt && done.startedAt && done.finishedAt >= done.startedAt).toBe(true);
      expect(await t.get(job.id)).toMatchObject({ status: 'completed' });
      expect(fx.seenJobs[0]).toEqual({ jobId: job.id, tenantId: 't1', workspaceId: 'w1', metadata: { a: 1 } });
    });

    it('two ids are never the same and are URL-safe', async () => {
      const t = await setup();
      const ids = new Set<string>();
      for (let i = 0; i < 20; i++) ids.add((await t.submit('echo', { text: String(i) })).id);
      expect(ids.size).toBe(20);
      for (const id of ids) expect(encodeURIComponent(id)).toBe(id);
    });

    it('events: queued, started, progress…, completed with seq from 1 and no gap for a prompt reader', async () => {
      const t = await setup();
      const job = await t.submit('steps', { count: 4, delayMs: 5 });
      const events = await collect(t.events(job.id));
      expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'progress', 'progress', 'progress', 'completed']);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.every((e) => e.jobId === job.id && e.job.id === job.id)).toBe(true);
      expect(events.map((e) => e.job.status)).toEqual(['queued', 'running', 'running', 'running', 'running', 'running', 'completed']);
      expect(events[3]?.job).toMatchObject({ progress: 50, message: 'step 2' });
      expect(events.at(-1)?.job.result).toEqual({ steps: 4 });
    });

    it('events(afterSeq) replays exactly the events after it, then ends', async () => {
      const t = await setup();
      const job = await t.submit('steps', { count: 2, delayMs: 1 });
      await t.wait(job.id);
      const all = await collect(t.events(job.id));
      const tail = await collect(t.events(job.id, { afterSeq: 2 }));
      expect(tail).toEqual(all.filter((e) => e.seq > 2));
      expect(await collect(t.events(job.id, { afterSeq: all.at(-1)!.seq }))).toEqual([]);
    });

    it('events of an unknown job reject the first next() with JOB_NOT_FOUND', async () => {
      const t = await setup();
      const error = await rejection(t.events('nope-nope-nope-nope').next());
      expect(isJobwireError(error) && error.code).toBe('JOB_NOT_FOUND');
    });

    it('events: return() and an aborted signal end the iterator without rejecting', async () => {
      const t = await setup();
      const job = await t.submit('gate', { key: 'ev' });
      const it1 = t.events(job.id);
      expect((await it1.next()).value?.type).toBe('queued');
      expect(await it1.return!()).toEqual({ done: true, value: undefined });
      expect((await it1.next()).done).toBe(true);

      const controller = new AbortController();
      const it2 = t.events(job.id, { afterSeq: 5 });
      const it3 = t.events(job.id, { afterSeq: 5, signal: controller.signal });
      const pending = it3.next();
      controller.abort();
      expect(await pending).toEqual({ done: true, value: undefined });
      // A signal aborted before the call: the iterator is done from the start.
      expect(await t.events(job.id, { signal: controller.signal }).next()).toEqual({ done: true, value: undefined });
      fx.open('ev');
      const rest = await collect(it2);
      expect(rest.at(-1)?.type).toBe('completed');
    });

    it('a plugin that throws anything fails its job with PLUGIN_FAILED and its message', async () => {
      const t = await setup();
      const cases = { error: 'kaboom', string: 'plain string', object: '{"reason":"object thrown"}', undefined: 'undefined was thrown' } as const;
      for (const [kind, message] of Object.entries(cases)) {
        const job = await t.submit('boom', { kind });
        const done = await t.wait(job.id);
        expect(done.status).toBe('failed');
        expect(done.error).toEqual({ code: 'PLUGIN_FAILED', message });
        expect(done.result).toBeUndefined();
      }
      expect((await t.submit('echo', { text: 'still alive' })).status).toBe('queued');
    });

    it('an output that breaks the output schema fails the job', async () => {
      const t = await setup();
      const bad = fx.plugins;
      bad.unregister('echo');
      const { definePlugin } = await import('../../src/index.js');
      const { z } = await import('zod');
      bad.register(definePlugin({ name: 'echo', input: z.object({ text: z.string() }), output: z.object({ echo: z.string() }), run: () => ({ echo: 1 }) as never }));
      const done = await t.wait((await t.submit('echo', { text: 'x' })).id);
      expect(done.status).toBe('failed');
      expect(done.error?.code).toBe('PLUGIN_FAILED');
    });

    it('bad submits are refused with a typed error and store nothing', async () => {
      const t = await setup();
      const invalid = await rejection(t.submit('echo', { text: 42 }));
      expect(isJobwireError(invalid) && invalid.code).toBe('INVALID_INPUT');
      expect(isJobwireError(invalid) && invalid.details).toEqual([expect.objectContaining({ path: ['text'] })]);
      const unknown = await rejection(t.submit('nope', {}));
      expect(isJobwireError(unknown) && unknown.code).toBe('PLUGIN_NOT_FOUND');
      const badOptions = await rejection(t.submit('echo', { text: 'x' }, { priority: Number.NaN }));
      expect(isJobwireError(badOptions) && badOptions.code).toBe('INVALID_REQUEST');
      fx.plugins.disable('echo');
      const disabled = await rejection(t.submit('echo', { text: 'x' }));
      expect(isJobwireError(disabled) && disabled.code).toBe('PLUGIN_DISABLED');
      expect((await t.list()).jobs).toEqual([]);
      expect((await t.stats()).total).toBe(0);
    });

    it('cancel of a queued job: cancelled at once, never runs', async () => {
      const t = await setup({ concurrency: 1 });
      const first = await t.submit('gate', { key: 'c1' });
      const second = await t.submit('gate', { key: 'c2' });
      await until(async () => (await t.get(first.id))?.status === 'running');
      const cancelled = await t.cancel(second.id, 'not needed');
      expect(cancelled).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'not needed' } });
      fx.open('c1');
      await t.wait(first.id);
      expect(fx.started).toEqual(['c1']);
      expect((await t.get(second.id))?.status).toBe('cancelled');
    });

    it('cancel of a running job: cancelled at once, ctx.signal aborted with a reason', async () => {
      const t = await setup();
      const job = await t.submit('gate', { key: 'r1' });
      await until(async () => (await t.get(job.id))?.status === 'running');
      const snapshot = await t.cancel(job.id, 'user asked');
      expect(snapshot.status).toBe('cancelled');
      await until(() => fx.aborted.has('r1'), 2_000, 'abort to reach the plugin');
      const reason = fx.aborted.get('r1');
      expect(isJobwireError(reason) && reason.code).toBe('CANCELLED');
      const events = await collect(t.events(job.id));
      expect(events.filter((e) => e.type === 'cancelled')).toHaveLength(1);
      expect(events.at(-1)?.type).toBe('cancelled');
    });

    it('a plugin that resolves after its job was cancelled does not turn it completed', async () => {
      const t = await setup();
      const job = await t.submit('stubborn', { key: 's1' });
      await until(async () => (await t.get(job.id))?.status === 'running');
      await t.cancel(job.id);
      fx.open('s1');
      await until(() => fx.aborted.has('s1'));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(await t.get(job.id)).toMatchObject({ status: 'cancelled' });
      expect((await t.get(job.id))?.result).toBeUndefined();
    });

    it('cancel of a finished job returns it unchanged; of an unknown job, JOB_NOT_FOUND', async () => {
      const t = await setup();
      const job = await t.submit('echo', { text: 'x' });
      const done = await t.wait(job.id);
      expect(await t.cancel(job.id)).toEqual(done);
      const error = await rejection(t.cancel('unknown-job-id-0000'));
      expect(isJobwireError(error) && error.code).toBe('JOB_NOT_FOUND');
    });

    it('timeoutMs fails a job with TIMEOUT and aborts its signal', async () => {
      const t = await setup();
      const job = await t.submit('gate', { key: 't1' }, { timeoutMs: 30 });
      const done = await t.wait(job.id, { timeoutMs: 5_000 });
      expect(done).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
      await until(() => fx.aborted.has('t1'));
    });

    it('runs no more jobs at once than the concurrency, higher priority first', async () => {
      const t = await setup({ concurrency: 2 });
      const blockers = [await t.submit('gate', { key: 'b1' }), await t.submit('gate', { key: 'b2' })];
      await until(() => fx.started.length === 2);
      const low = await t.submit('gate', { key: 'p', tag: 'low' }, { priority: 1 });
      const high = await t.submit('gate', { key: 'p', tag: 'high' }, { priority: 10 });
      expect((await t.get(low.id))?.status).toBe('queued');
      fx.open('b1');
      await until(() => fx.started.length === 3);
      expect(fx.started[2]).toBe('high');
      fx.open('b2');
      fx.open('p');
      await Promise.all([...blockers, low, high].map((job) => t.wait(job.id)));
      // The two blockers start together (their order is not defined); then higher priority first.
      expect([...fx.started.slice(0, 2)].sort()).toEqual(['b1', 'b2']);
      expect(fx.started.slice(2)).toEqual(['high', 'low']);
      expect(fx.maxRunning).toBe(2);
    });

    it('list: newest first, filters, and cursors that never skip or repeat while jobs are added', async () => {
      const t = await setup();
      const made: string[] = [];
      for (let i = 0; i < 7; i++) made.push((await t.submit('echo', { text: String(i) }, { tenantId: i % 2 ? 'odd' : 'even', workspaceId: 'w' })).id);
      await Promise.all(made.map((id) => t.wait(id)));
      const failed = await t.submit('boom', { kind: 'error' }, { tenantId: 'odd' });
      await t.wait(failed.id);

      expect((await t.list()).jobs.map((j) => j.id)).toEqual([failed.id, ...[...made].reverse()]);
      expect((await t.list({ tenantId: 'odd', status: 'completed' })).jobs.map((j) => j.id)).toEqual([made[5], made[3], made[1]]);
      expect((await t.list({ status: ['failed'] })).jobs.map((j) => j.id)).toEqual([failed.id]);
      expect((await t.list({ plugin: 'boom' })).jobs).toHaveLength(1);
      expect((await t.list({ workspaceId: 'w' })).jobs).toHaveLength(7);

      const seen: string[] = [];
      let page = await t.list({ limit: 3 });
      seen.push(...page.jobs.map((j) => j.id));
      while (page.nextCursor) {
        await t.submit('echo', { text: 'added while paging' });
        page = await t.list({ limit: 3, cursor: page.nextCursor });
        seen.push(...page.jobs.map((j) => j.id));
      }
      expect(seen).toEqual([failed.id, ...[...made].reverse()]);

      const bad = await rejection(t.list({ cursor: 'garbage!' }));
      expect(isJobwireError(bad) && bad.code).toBe('INVALID_REQUEST');
      const badStatus = await rejection(t.list({ status: 'done' as never }));
      expect(isJobwireError(badStatus) && badStatus.code).toBe('INVALID_REQUEST');
    });

    it('remove cancels a live job, deletes it and says so', async () => {
      const t = await setup();
      const removed: string[] = [];
      t.on('job:removed', (event) => removed.push(event.jobId));
      const job = await t.submit('gate', { key: 'rm' });
      await until(async () => (await t.get(job.id))?.status === 'running');
      expect(await t.remove(job.id)).toBe(true);
      expect(await t.get(job.id)).toBeUndefined();
      expect(await t.remove(job.id)).toBe(false);
      await until(() => fx.aborted.has('rm'));
      expect(removed).toEqual([job.id]);
      expect((await t.list()).jobs).toEqual([]);
    });

    it('idempotencyKey: same key and tenant → same job; another tenant → another job', async () => {
      const t = await setup();
      const a = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' });
      const b = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' });
      const c = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'y' });
      expect(b.id).toBe(a.id);
      expect(c.id).not.toBe(a.id);
      fx.open('i');
      await t.wait(a.id);
      expect((await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' })).id).toBe(a.id);
      await t.remove(a.id);
      expect((await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' })).id).not.toBe(a.id);
    });

    it('typed listeners see every status event in order; one that throws does not disturb the rest', async () => {
      const t = await setup();
      const seen: string[] = [];
      t.on('job:queued', () => {
        throw new Error('listener bug');
      });
      for (const type of ['queued', 'started', 'progress', 'completed'] as const) t.on(`job:${type}`, (e: JobEvent) => seen.push(`${e.type}:${e.seq}`));
      const job = await t.submit('steps', { count: 1, delayMs: 1 });
      await t.wait(job.id);
      expect(seen).toEqual(['queued:1', 'started:2', 'progress:3', 'completed:4']);
      const off = (e: JobEvent) => seen.push(`again:${e.type}`);
      t.on('job:completed', off);
      t.off('job:completed', off);
      await t.wait((await t.submit('echo', { text: 'x' })).id);
      expect(seen).not.toContain('again:completed');
    });

    it('with storage: the result is saved once, before completed is announced', async () => {
      const storage = new MemoryResultStorage();
      const saves: string[] = [];
      const spy: ResultStorage = {
        save: async (record) => {
          saves.push(record.jobId);
          await storage.save(record);
        },
        get: (id) => storage.get(id),
        list: (q) => storage.list(q),
        delete: (id) => storage.delete(id),
      };
      const t = await setup({ storage: spy });
      const savedWhenAnnounced: boolean[] = [];
      t.on('job:completed', (event) => {
        void storage.get(event.jobId).then((record) => savedWhenAnnounced.push(record !== undefined));
      });
      const job = await t.submit('echo', { text: 'keep me' }, { tenantId: 'acme', metadata: { m: 1 } });
      await t.wait(job.id);
      await until(() => savedWhenAnnounced.length === 1);
      expect(savedWhenAnnounced).toEqual([true]);
      expect(saves).toEqual([job.id]);
      const record = await storage.get(job.id);
      expect(record).toMatchObject({ jobId: job.id, plugin: { name: 'echo', title: 'Echo', version: '1.2.3' }, input: { text: 'keep me' }, result: { echo: 'keep me' }, tenantId: 'acme', metadata: { m: 1 } });
      expect(record!.durationMs).toBeGreaterThanOrEqual(0);
      const failed = await t.submit('boom', { kind: 'error' });
      await t.wait(failed.id);
      expect(saves).toEqual([job.id]);
    });

    /** After `t` closed: `t` itself, or a second tracker on the same store for distributed backends. */
    async function afterClose(t: JobTracker): Promise<JobTracker> {
      if (!fixture.shared) return t;
      const observer = await fixture.shared.observe({ plugins: fx.plugins });
      observers.push(observer);
      return observer;
    }

    it('stats counts jobs by status', async () => {
      const t = await setup({ concurrency: 1 });
      await t.submit('gate', { key: 'st' });
      await t.submit('gate', { key: 'st2' });
      await t.submit('boom', { kind: 'error' });
      await until(async () => (await t.stats()).running === 1);
      expect(await t.stats()).toMatchObject({ running: 1, queued: 2, total: 3 });
      await t.close({ timeoutMs: 0 });
      const after = await (await afterClose(t)).stats();
      if (fixture.shared) expect(after).toMatchObject({ running: 0, queued: 2, cancelled: 1, total: 3 });
      else expect(after).toMatchObject({ running: 0, queued: 0, cancelled: 3, total: 3 });
    });

    it('TTL: a finished job is gone ttlMs after it ended, swept on its own, and job:removed says so', async () => {
      const t = await setup({ ttlMs: 200, sweepIntervalMs: 50 });
      const removed: string[] = [];
      t.on('job:removed', (event) => removed.push(event.jobId));
      const done = await t.wait((await t.submit('echo', { text: 'short-lived' })).id);
      expect(Date.parse(done.expiresAt!) - Date.parse(done.finishedAt!)).toBe(200);
      expect((await t.get(done.id))?.status).toBe('completed');
      await until(() => removed.includes(done.id), 5_000, 'the sweep to remove the job');
      expect(await t.get(done.id)).toBeUndefined();
      expect((await t.list()).jobs).toEqual([]);
      expect((await t.stats()).total).toBe(0);
    });

    it('stats: per-plugin durations of the jobs that ended in the window', async () => {
      const t = await setup();
      await t.wait((await t.submit('steps', { count: 2, delayMs: 20 })).id);
      await t.wait((await t.submit('boom', { kind: 'error' })).id);
      const { plugins, windowMs } = await t.stats();
      expect(windowMs).toBe(300_000);
      expect(plugins.steps?.finished).toEqual({ completed: 1, failed: 0, cancelled: 0 });
      expect(plugins.steps?.runMs.count).toBe(1);
      expect(plugins.steps?.runMs.p50).toBeGreaterThanOrEqual(30); // two steps of 20 ms, within histogram resolution
      expect(plugins.steps?.queueWaitMs.count).toBe(1);
      expect(plugins.boom?.finished).toEqual({ completed: 0, failed: 1, cancelled: 0 });
    });

    it('wait: TIMEOUT after timeoutMs, CANCELLED on abort, JOB_NOT_FOUND for unknown ids', async () => {
      const t = await setup();
      const job = await t.submit('gate', { key: 'w' });
      const timeout = await rejection(t.wait(job.id, { timeoutMs: 20 }));
      expect(isJobwireError(timeout) && timeout.code).toBe('TIMEOUT');
      const controller = new AbortController();
      const waiting = t.wait(job.id, { signal: controller.signal });
      controller.abort();
      const aborted = await rejection(waiting);
      expect(isJobwireError(aborted) && aborted.code).toBe('CANCELLED');
      const unknown = await rejection(t.wait('unknown-job-id-0000'));
      expect(isJobwireError(unknown) && unknown.code).toBe('JOB_NOT_FOUND');
      expect((await t.get(job.id))?.status).toBe('running');
    });

    it('close: refuses new submits, cancels queued jobs at once, lets running ones finish', async () => {
      const t = await setup({ concurrency: 1 });
      const running = await t.submit('steps', { count: 3, delayMs: 10 });
      const queued = await t.submit('echo', { text: 'never' });
      await until(async () => (await t.get(running.id))?.status === 'running');
      const closing = t.close({ timeoutMs: 5_000 });
      const closed = await rejection(t.submit('echo', { text: 'late' }));
      expect(isJobwireError(closed) && closed.code).toBe('CLOSED');
      await closing;
      const reader = await afterClose(t);
      // A shared queue keeps its waiting jobs for the other workers.
      if (fixture.shared) expect(await reader.get(queued.id)).toMatchObject({ status: 'queued' });
      else expect(await reader.get(queued.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
      expect(await reader.get(running.id)).toMatchObject({ status: 'completed' });
    });

    it('close: running jobs that outlive timeoutMs are cancelled with code CLOSED', async () => {
      const t = await setup();
      const job = await t.submit('gate', { key: 'slow' });
      await until(async () => (await t.get(job.id))?.status === 'running');
      await t.close({ timeoutMs: 20 });
      expect(await (await afterClose(t)).get(job.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
      await until(() => fx.aborted.has('slow'));
    });
  });
}
