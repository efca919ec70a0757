import type { JobBackend } from '../../backend/job-backend.js';
import { isJobwireError } from '../../errors.js';
import type { JobEvent } from '../../job.js';
import { MemoryResultStorage } from '../../storage/memory-result-storage.js';
import type { ResultStorage, StoredResult } from '../../storage/types.js';
import { JobTracker } from '../../tracker/job-tracker.js';
import type { JobTrackerOptions } from '../../tracker/types.js';
import { createFixturePlugins, deepTree, nested, type FixturePlugins } from './fixture-plugins.js';
import { outputCases } from './job-backend-output.js';
import { retryCases } from './job-backend-retries.js';
import { loadVitest } from './vitest-api.js';
import { collect, collectStatus, deferred, rejection, until } from './wait.js';

/** Tracker options a backend's fixture is given (everything but the backend itself). */
export type TrackerSettings = Omit<JobTrackerOptions, 'backend'>;

/** How a backend plugs into {@link testJobBackend}. */
export interface BackendFixture {
  /** A fresh backend for one test (on a fresh queue, for a distributed one). */
  backend(): JobBackend | Promise<JobBackend>;
  /**
   * Distributed backends: the queue outlives one process, so `close()` leaves waiting jobs for
   * other workers instead of cancelling them, and a closed tracker reads no more. `observer()`
   * returns a second backend on the same queue that runs nothing (a producer), to read state after
   * a close. Omit for a backend whose jobs live and die with its process.
   */
  observer?(): JobBackend | Promise<JobBackend>;
  /** Called after each test, once its trackers are closed. */
  cleanup?(): Promise<void>;
}

const code = (error: unknown): string | undefined => (isJobwireError(error) ? error.code : undefined);

/**
 * The behaviour every job backend must show through the JobTracker API: the definition of a
 * correct backend. Real time, no fake timers, so distributed backends run it too; every wait is
 * for a state, with bounds that only matter when something is wrong.
 *
 * Call it at the top level of a vitest test file, awaited (it loads vitest, an optional peer):
 * @example
 * ```ts
 * import { testJobBackend } from 'jobwire/testing';
 * await testJobBackend('my backend', { backend: () => new MyBackend() });
 * ```
 */
export async function testJobBackend(name: string, fixture: BackendFixture): Promise<void> {
  const vitest = await loadVitest();
  const { describe, it, expect, afterEach } = vitest;

  describe(`job backend conformance: ${name}`, () => {
    let fx: FixturePlugins;
    const trackers: JobTracker[] = [];

    async function setup(options: Partial<TrackerSettings> = {}): Promise<JobTracker> {
      fx = createFixturePlugins();
      const tracker = new JobTracker({ plugins: fx.plugins, ...options, backend: await fixture.backend() });
      trackers.push(tracker);
      return tracker;
    }

    /** After `t` closed: `t` itself, or a producer on the same queue for a distributed backend. */
    async function afterClose(t: JobTracker): Promise<JobTracker> {
      if (!fixture.observer) return t;
      const observer = new JobTracker({ plugins: fx.plugins, backend: await fixture.observer() });
      trackers.push(observer);
      return observer;
    }

    const status = (t: JobTracker, id: string) => async (): Promise<string | undefined> => (await t.get(id))?.status;
    const running = (t: JobTracker, id: string) => async (): Promise<boolean> => (await status(t, id)()) === 'running';

    afterEach(async () => {
      await Promise.all(trackers.splice(0).map((tracker) => tracker.close({ timeoutMs: 0 })));
      await fixture.cleanup?.();
    });

    describe('submit, run, events', () => {
      it('submit resolves at once with a queued snapshot, and the job completes', async () => {
        const t = await setup();
        const job = await t.submit('echo', { text: 'hi' }, { tenantId: 't1', workspaceId: 'w1', metadata: { a: 1 }, priority: 3 });
        expect(job).toMatchObject({ plugin: 'echo', status: 'queued', progress: 0, input: { text: 'hi' }, tenantId: 't1', workspaceId: 'w1', metadata: { a: 1 }, priority: 3 });
        expect(job.id).toMatch(/^[A-Za-z0-9_-]{16,}$/);
        expect(Number.isNaN(Date.parse(job.createdAt))).toBe(false);
        const done = await t.wait(job.id, { timeoutMs: 10_000 });
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

      it('events: queued, started, progress…, completed, with seqs from 1 and no gap for a prompt reader', async () => {
        const t = await setup();
        const job = await t.submit('steps', { count: 4, delayMs: 5 });
        const events = await collectStatus(t.events(job.id));
        const types = events.map((e) => e.type);
        expect(types.slice(0, 2)).toEqual(['queued', 'started']);
        expect(types.at(-1)).toBe('completed');
        // Reports made while one is still being written coalesce to the newest: at least one arrives, the last is step 4.
        const progress = events.filter((e) => e.type === 'progress');
        expect(progress.length).toBeGreaterThanOrEqual(1);
        expect(types.slice(2, -1).every((type) => type === 'progress')).toBe(true);
        expect(progress.at(-1)?.job).toMatchObject({ progress: 100, message: 'step 4' });
        expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
        expect(events.every((e) => e.jobId === job.id && e.job.id === job.id)).toBe(true);
        expect(events.map((e) => e.job.status)).toEqual(['queued', 'running', ...progress.map(() => 'running'), 'completed']);
        expect(events.at(-1)?.job.result).toEqual({ steps: 4 });
      });

      it('progress coalesces: a burst of reports keeps the log to its status events and the newest progress', async () => {
        const t = await setup();
        const job = await t.submit('burst', { count: 2_000 });
        const done = await t.wait(job.id);
        expect(done).toMatchObject({ status: 'completed', progress: 100, message: 'report 2000', result: { reports: 2_000 } });
        const replay = await collectStatus(t.events(job.id));
        expect(replay.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'completed']);
        expect(replay[2]?.job).toMatchObject({ progress: 100, message: 'report 2000' });
        const seqs = replay.map((e) => e.seq);
        expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      });

      it('progress is clamped to 0..100 and rounded to 2 decimals', async () => {
        const t = await setup();
        const job = await t.submit('steps', { count: 3, delayMs: 1 });
        const events = await collectStatus(t.events(job.id));
        for (const event of events) expect(Number.isInteger(event.job.progress * 100)).toBe(true);
        expect(events.filter((e) => e.type === 'progress').at(-1)?.job.progress).toBe(100);
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
        expect(code(await rejection(t.events('nope-nope-nope-nope').next()))).toBe('JOB_NOT_FOUND');
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
        await until(running(t, job.id), 10_000, 'the job to run');
        fx.open('ev');
        const rest = await collect(it2);
        expect(rest.at(-1)?.type).toBe('completed');
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
        await until(() => seen.length === 4, 10_000, 'the completed event to reach the listener');
        expect(seen).toEqual(['queued:1', 'started:2', 'progress:3', 'completed:4']);
        const off = (e: JobEvent) => seen.push(`again:${e.type}`);
        t.on('job:completed', off);
        t.off('job:completed', off);
        await t.wait((await t.submit('echo', { text: 'x' })).id);
        expect(seen).not.toContain('again:completed');
      });
    });

    describe('failures', () => {
      it('a plugin that throws anything fails its job with PLUGIN_FAILED and its message', async () => {
        const t = await setup();
        const cases = { error: 'kaboom', string: 'plain string', object: '{"reason":"object thrown"}', undefined: 'undefined was thrown' } as const;
        for (const [kind, message] of Object.entries(cases)) {
          const done = await t.wait((await t.submit('boom', { kind: kind as keyof typeof cases })).id);
          expect(done).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message } });
          expect(done.result).toBeUndefined();
        }
        expect((await t.submit('echo', { text: 'still alive' })).status).toBe('queued');
      });

      it('a thrown value whose message cannot be read still fails the job (never left running)', async () => {
        const t = await setup();
        for (const kind of ['revoked', 'message-getter'] as const) {
          const done = await t.wait((await t.submit('unreadable', { kind })).id, { timeoutMs: 10_000 });
          expect(done.status).toBe('failed');
          expect(done.error?.code).toBe('PLUGIN_FAILED');
          expect(typeof done.error?.message).toBe('string');
        }
      });

      it('an error message is bounded: a huge one is cut, not stored whole', async () => {
        const t = await setup();
        const done = await t.wait((await t.submit('boom', { kind: 'huge' })).id);
        expect(done.error?.code).toBe('PLUGIN_FAILED');
        expect(done.error!.message.length).toBeLessThan(10_000);
        expect(done.error!.message).toMatch(/^x+… \(\d+ more characters\)$/);
      });

      it('a result JSON cannot carry fails the job with PLUGIN_FAILED; listings and reads keep working', async () => {
        const t = await setup();
        for (const kind of ['bigint', 'cycle', 'getter', 'deep', 'huge'] as const) {
          const done = await t.wait((await t.submit('poison', { kind })).id);
          expect(done, kind).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED' } });
          expect(JSON.stringify(await t.get(done.id))).toContain('"failed"');
        }
        const page = await t.list({ limit: 100 });
        expect(page.jobs).toHaveLength(5);
        expect(() => JSON.stringify(page)).not.toThrow();
      });

      it('ctx.progress with a value that is not a number, from a timer, fails the job (the host keeps running)', async () => {
        const t = await setup();
        for (const value of ['nan', 'string'] as const) {
          const done = await t.wait((await t.submit('ticker', { value })).id, { timeoutMs: 10_000 });
          expect(done).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message: expect.stringMatching(/^ctx\.progress expects a number/) } });
        }
        expect((await t.wait((await t.submit('echo', { text: 'alive' })).id)).status).toBe('completed');
      });

      it('an output that breaks the output schema fails the job', async () => {
        const t = await setup();
        const { definePlugin } = await import('../../plugin-manager/define-plugin.js');
        const { z } = await import('zod');
        fx.plugins.unregister('echo');
        fx.plugins.register(definePlugin({ name: 'echo', input: z.object({ text: z.string() }), output: z.object({ echo: z.string() }), run: () => ({ echo: 1 }) as never }));
        const done = await t.wait((await t.submit('echo', { text: 'x' })).id);
        expect(done).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED' } });
      });
    });

    describe('what a submit may carry', () => {
      it('bad submits are refused with a typed error and store nothing', async () => {
        const t = await setup();
        const invalid = await rejection(t.submit('echo', { text: 42 }));
        expect(code(invalid)).toBe('INVALID_INPUT');
        expect(isJobwireError(invalid) && invalid.details).toEqual([expect.objectContaining({ path: ['text'] })]);
        expect(code(await rejection(t.submit('nope', {})))).toBe('PLUGIN_NOT_FOUND');
        expect(code(await rejection(t.submit('echo', { text: 'x' }, { priority: Number.NaN })))).toBe('INVALID_REQUEST');
        fx.plugins.disable('echo');
        expect(code(await rejection(t.submit('echo', { text: 'x' })))).toBe('PLUGIN_DISABLED');
        expect((await t.list()).jobs).toEqual([]);
        expect((await t.stats()).total).toBe(0);
      });

      it('input and metadata nested without end are refused (4xx), and one bad submit breaks nobody’s listing', async () => {
        const t = await setup();
        const good = await t.submit('echo', { text: 'fine' });
        expect(code(await rejection(t.submit('anything', nested(5_000))))).toBe('INVALID_INPUT');
        expect(code(await rejection(t.submit('recursive', deepTree(5_000))))).toBe('INVALID_INPUT');
        expect(code(await rejection(t.submit('echo', { text: 'x' }, { metadata: nested(5_000) as Record<string, unknown> })))).toBe('INVALID_REQUEST');
        expect(code(await rejection(t.submit('anything', { big: 1n })))).toBe('INVALID_INPUT');
        expect(code(await rejection(t.submit('anything', 'x'.repeat(2_000_000))))).toBe('INVALID_INPUT');
        // A recursive schema still takes a reasonable tree.
        expect((await t.submit('recursive', deepTree(20))).status).toBe('queued');
        const page = await t.list({ limit: 100 });
        expect(page.jobs.map((job) => job.plugin).sort()).toEqual(['echo', 'recursive']);
        expect(page.jobs.some((job) => job.id === good.id)).toBe(true);
      });

      it('idempotencyKey: same key and tenant → same job; another tenant → another job; ids with NUL do not collide', async () => {
        const t = await setup();
        const a = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' });
        const b = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' });
        const c = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'y' });
        expect(b.id).toBe(a.id);
        expect(c.id).not.toBe(a.id);
        const d = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'c', tenantId: 'a\u0000b' });
        const e = await t.submit('gate', { key: 'i' }, { idempotencyKey: 'b\u0000c', tenantId: 'a' });
        expect(e.id).not.toBe(d.id);
        fx.open('i');
        await t.wait(a.id);
        expect((await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' })).id).toBe(a.id);
        await t.remove(a.id);
        expect((await t.submit('gate', { key: 'i' }, { idempotencyKey: 'k', tenantId: 'x' })).id).not.toBe(a.id);
      });

      it('idempotencyKey at once: concurrent submits with one key and tenant make one job; the same key in two tenants makes two', async () => {
        const t = await setup();
        // All in flight together: a store that checks the key, yields, then sets it creates one job each.
        const same = await Promise.all(Array.from({ length: 5 }, () => t.submit('echo', { text: 'once' }, { idempotencyKey: 'k', tenantId: 'x' })));
        expect(new Set(same.map((job) => job.id)).size).toBe(1);
        const pair = await Promise.all(['y', 'z'].map((tenantId) => t.submit('echo', { text: tenantId }, { idempotencyKey: 'k', tenantId })));
        expect(new Set(pair.map((job) => job.id)).size).toBe(2);
        const ids = [same[0]!.id, ...pair.map((job) => job.id)];
        expect(new Set(ids).size).toBe(3);
        await Promise.all(ids.map((id) => t.wait(id)));
        expect((await t.list({ limit: 100 })).jobs.map((job) => job.id).sort()).toEqual([...ids].sort());
        expect((await t.list({ tenantId: 'x' })).jobs.map((job) => job.id)).toEqual([same[0]!.id]);
      });
    });

    describe('cancel', () => {
      it('cancel of a queued job: cancelled at once, never runs', async () => {
        const t = await setup({ concurrency: 1 });
        const first = await t.submit('gate', { key: 'c1' });
        const second = await t.submit('gate', { key: 'c2' });
        await until(running(t, first.id), 10_000, 'the first job to run');
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
        await until(running(t, job.id), 10_000, 'the job to run');
        expect((await t.cancel(job.id, 'user asked')).status).toBe('cancelled');
        await until(() => fx.aborted.has('r1'), 10_000, 'the abort to reach the plugin');
        expect(code(fx.aborted.get('r1'))).toBe('CANCELLED');
        const events = await collect(t.events(job.id));
        expect(events.filter((e) => e.type === 'cancelled')).toHaveLength(1);
        expect(events.at(-1)?.type).toBe('cancelled');
      });

      it('a cancel racing the claim: the job ends cancelled, and a plugin that started is aborted', async () => {
        const t = await setup({ concurrency: 4 });
        for (let round = 0; round < 10; round++) {
          const key = `race${round}`;
          const job = await t.submit('gate', { key });
          if (round % 2 === 1) {
            // The moment it starts: between the claim and the plugin.
            for await (const event of t.events(job.id)) if (event.type === 'started') break;
          }
          const snapshot = await t.cancel(job.id, 'raced');
          expect(snapshot.status).toBe('cancelled');
          expect(await t.wait(job.id)).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'raced' } });
          if (fx.started.includes(key)) await until(() => fx.aborted.has(key), 10_000, `the abort of round ${round} to reach the plugin`);
        }
        expect((await t.stats()).running).toBe(0);
      });

      it('a plugin that resolves after its job was cancelled does not turn it completed', async () => {
        const t = await setup();
        const job = await t.submit('stubborn', { key: 's1' });
        await until(running(t, job.id), 10_000, 'the job to run');
        await t.cancel(job.id);
        fx.open('s1');
        await until(() => fx.aborted.has('s1'), 10_000, 'the abort to reach the plugin');
        const settled = await t.submit('echo', { text: 'after' });
        await t.wait(settled.id); // the stubborn plugin has had every chance to record a late result
        expect(await t.get(job.id)).toMatchObject({ status: 'cancelled' });
        expect((await t.get(job.id))?.result).toBeUndefined();
      });

      it('cancel of a finished job returns it unchanged; of an unknown job, JOB_NOT_FOUND', async () => {
        const t = await setup();
        const job = await t.submit('echo', { text: 'x' });
        const done = await t.wait(job.id);
        expect(await t.cancel(job.id)).toEqual(done);
        expect(code(await rejection(t.cancel('unknown-job-id-0000')))).toBe('JOB_NOT_FOUND');
      });

      it('remove cancels a live job, deletes it and says so', async () => {
        const t = await setup();
        const removed: string[] = [];
        t.on('job:removed', (event) => removed.push(event.jobId));
        const job = await t.submit('gate', { key: 'rm' });
        await until(running(t, job.id), 10_000, 'the job to run');
        expect(await t.remove(job.id)).toBe(true);
        expect(await t.get(job.id)).toBeUndefined();
        expect(await t.remove(job.id)).toBe(false);
        await until(() => fx.aborted.has('rm'), 10_000, 'the abort to reach the plugin');
        expect(removed).toEqual([job.id]);
        expect((await t.list()).jobs).toEqual([]);
      });
    });

    describe('concurrency, priority, timeouts', () => {
      it('runs no more jobs at once than the concurrency, higher priority first', async () => {
        const t = await setup({ concurrency: 2 });
        const blockers = [await t.submit('gate', { key: 'b1' }), await t.submit('gate', { key: 'b2' })];
        await until(() => fx.started.length === 2, 10_000, 'two jobs to start');
        const low = await t.submit('gate', { key: 'p', tag: 'low' }, { priority: 1 });
        const high = await t.submit('gate', { key: 'p', tag: 'high' }, { priority: 10 });
        expect((await t.get(low.id))?.status).toBe('queued');
        fx.open('b1');
        await until(() => fx.started.length === 3, 10_000, 'a third job to start');
        expect(fx.started[2]).toBe('high');
        fx.open('b2');
        fx.open('p');
        await Promise.all([...blockers, low, high].map((job) => t.wait(job.id)));
        expect([...fx.started.slice(0, 2)].sort()).toEqual(['b1', 'b2']);
        expect(fx.started.slice(2)).toEqual(['high', 'low']);
        expect(fx.maxRunning('gate')).toBe(2);
      });

      it('a higher priority overtakes jobs of the default priority already waiting; a negative one waits behind them', async () => {
        const t = await setup({ concurrency: 1 });
        const blocker = await t.submit('gate', { key: 'b' });
        await until(() => fx.started.length === 1, 10_000, 'the blocker to start');
        const later = await t.submit('gate', { key: 'q', tag: 'negative' }, { priority: -5 });
        const plain = await t.submit('gate', { key: 'q', tag: 'default' });
        const urgent = await t.submit('gate', { key: 'q', tag: 'urgent' }, { priority: 5 });
        fx.open('q');
        fx.open('b');
        await Promise.all([blocker, later, plain, urgent].map((job) => t.wait(job.id)));
        expect(fx.started).toEqual(['b', 'urgent', 'default', 'negative']);
      });

      it("a plugin's own concurrency cap holds, and its waiting jobs never hold a slot other plugins' jobs could use", async () => {
        const t = await setup({ concurrency: 2 });
        const capped = await Promise.all([1, 2, 3, 4].map((i) => t.submit('solo', { key: 'solo', tag: `solo${i}` })));
        await until(() => fx.started.includes('solo1') || fx.started.includes('solo2') || fx.started.includes('solo3') || fx.started.includes('solo4'), 10_000, 'a capped job to start');
        // One capped job runs; three wait for the cap. A job of another plugin starts at once beside it.
        const other = await t.submit('gate', { key: 'other' });
        await until(running(t, other.id), 10_000, "the other plugin's job to start while the capped ones wait");
        expect(fx.started.filter((name) => name.startsWith('solo'))).toHaveLength(1);
        expect((await t.stats()).running).toBe(2);
        fx.open('other');
        fx.open('solo');
        await Promise.all([...capped, other].map((job) => t.wait(job.id)));
        expect(fx.maxRunning('solo')).toBe(1);
      });

      it('timeoutMs fails a job with TIMEOUT and aborts its signal', async () => {
        const t = await setup();
        const job = await t.submit('gate', { key: 't1' }, { timeoutMs: 30 });
        const done = await t.wait(job.id, { timeoutMs: 10_000 });
        expect(done).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' } });
        await until(() => fx.aborted.has('t1'), 10_000, 'the abort to reach the plugin');
        expect(code(fx.aborted.get('t1'))).toBe('TIMEOUT');
      });
    });

    describe('result storage', () => {
      /** A storage whose saves are counted, and held (or failed) until the test says. */
      function spyStorage(behaviour: 'pass' | 'hang' | 'throw' = 'pass') {
        const inner = new MemoryResultStorage();
        const saves: string[] = [];
        const storage: ResultStorage = {
          save: async (record: StoredResult) => {
            saves.push(record.jobId);
            if (behaviour === 'hang') await deferred().promise;
            if (behaviour === 'throw') throw new Error('disk on fire');
            await inner.save(record);
          },
          get: (id) => inner.get(id),
          list: (q) => inner.list(q),
          delete: (id) => inner.delete(id),
        };
        return { storage, saves, inner };
      }

      it('the result is saved once, before completed is announced; failures are not saved', async () => {
        const { storage, saves, inner } = spyStorage();
        const t = await setup({ storage });
        const savedWhenAnnounced: boolean[] = [];
        t.on('job:completed', (event) => {
          void inner.get(event.jobId).then((record) => savedWhenAnnounced.push(record !== undefined));
        });
        const job = await t.submit('echo', { text: 'keep me' }, { tenantId: 'acme', metadata: { m: 1 } });
        await t.wait(job.id);
        await until(() => savedWhenAnnounced.length === 1, 10_000, 'the completed event');
        expect(savedWhenAnnounced).toEqual([true]);
        expect(saves).toEqual([job.id]);
        expect(await inner.get(job.id)).toMatchObject({ jobId: job.id, plugin: { name: 'echo', title: 'Echo', version: '1.2.3' }, input: { text: 'keep me' }, result: { echo: 'keep me' }, tenantId: 'acme', metadata: { m: 1 } });
        await t.wait((await t.submit('boom', { kind: 'error' })).id);
        expect(saves).toEqual([job.id]);
      });

      it('a save that never settles: the job completes after saveTimeoutMs, and its slot is free meanwhile', async () => {
        const { storage } = spyStorage('hang');
        const failures: string[] = [];
        const t = await setup({ storage, saveTimeoutMs: 300, concurrency: 1 });
        t.on('job:storage-failed', (event) => failures.push(event.error.code));
        const hung = await t.submit('echo', { text: 'hangs' }, { timeoutMs: 100 });
        // With the one slot free again, the next job runs while the first save hangs.
        const next = await t.submit('gate', { key: 'free' });
        await until(running(t, next.id), 10_000, 'the next job to take the slot');
        const done = await t.wait(hung.id, { timeoutMs: 10_000 });
        // The plugin returned in time: the hanging storage is not a TIMEOUT.
        expect(done).toMatchObject({ status: 'completed', result: { echo: 'hangs' } });
        await until(() => failures.length > 0, 10_000, 'the failed save to be reported');
        expect(failures[0]).toBe('STORAGE_FAILED');
        fx.open('free');
        await t.wait(next.id);
      });

      it('a save that throws: the job still completes, and the failure is reported', async () => {
        const { storage } = spyStorage('throw');
        const failures: { code: string; willRetry: boolean }[] = [];
        const t = await setup({ storage });
        t.on('job:storage-failed', (event) => failures.push({ code: event.error.code, willRetry: event.willRetry }));
        const done = await t.wait((await t.submit('echo', { text: 'x' })).id);
        expect(done).toMatchObject({ status: 'completed', result: { echo: 'x' } });
        await until(() => failures.length > 0, 10_000, 'the failed save to be reported');
        expect(failures[0]).toEqual({ code: 'STORAGE_FAILED', willRetry: true });
      });
    });

    describe('listing, stats, time to live', () => {
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
        expect(code(await rejection(t.list({ cursor: 'garbage!' })))).toBe('INVALID_REQUEST');
        expect(code(await rejection(t.list({ status: 'done' as never })))).toBe('INVALID_REQUEST');
      });

      it('stats counts jobs by status', async () => {
        const t = await setup({ concurrency: 1 });
        await t.submit('gate', { key: 'st' });
        await t.submit('gate', { key: 'st2' });
        await t.submit('boom', { kind: 'error' });
        await until(async () => (await t.stats()).running === 1, 10_000, 'one job to run');
        expect(await t.stats()).toMatchObject({ running: 1, queued: 2, total: 3 });
        await t.close({ timeoutMs: 0 });
        const after = await (await afterClose(t)).stats();
        if (fixture.observer) expect(after).toMatchObject({ running: 0, queued: 2, cancelled: 1, total: 3 });
        else expect(after).toMatchObject({ running: 0, queued: 0, cancelled: 3, total: 3 });
      });

      it('stats: per-plugin durations of the jobs that ended in the window', async () => {
        const t = await setup();
        await t.wait((await t.submit('steps', { count: 2, delayMs: 20 })).id);
        await t.wait((await t.submit('boom', { kind: 'error' })).id);
        await until(async () => (await t.stats()).plugins.boom !== undefined, 10_000, 'both ends to be recorded');
        const { plugins, windowMs } = await t.stats();
        expect(windowMs).toBe(300_000);
        expect(plugins.steps?.finished).toEqual({ completed: 1, failed: 0, cancelled: 0 });
        expect(plugins.steps?.runMs.count).toBe(1);
        expect(plugins.steps?.runMs.p50).toBeGreaterThanOrEqual(30); // two steps of at least 20 ms, within histogram resolution
        expect(plugins.steps?.queueWaitMs.count).toBe(1);
        expect(plugins.boom?.finished).toEqual({ completed: 0, failed: 1, cancelled: 0 });
      });

      it('TTL: a finished job is gone ttlMs after it ended, swept on its own, and job:removed says so', async () => {
        const t = await setup({ ttlMs: 200, sweepIntervalMs: 50 });
        const removed: string[] = [];
        t.on('job:removed', (event) => removed.push(event.jobId));
        const done = await t.wait((await t.submit('echo', { text: 'short-lived' })).id);
        expect(Date.parse(done.expiresAt!) - Date.parse(done.finishedAt!)).toBe(200);
        await until(() => removed.includes(done.id), 10_000, 'the sweep to remove the job');
        expect(await t.get(done.id)).toBeUndefined();
        expect((await t.list()).jobs).toEqual([]);
        expect((await t.stats()).total).toBe(0);
      });
    });

    retryCases(vitest, { name, setup, afterClose, fx: () => fx, distributed: fixture.observer !== undefined });

    outputCases(vitest, { setup, fx: () => fx });

    describe('wait and close', () => {
      it('wait: TIMEOUT after timeoutMs, CANCELLED on abort, JOB_NOT_FOUND for unknown ids', async () => {
        const t = await setup();
        const job = await t.submit('gate', { key: 'w' });
        await until(running(t, job.id), 10_000, 'the job to run');
        expect(code(await rejection(t.wait(job.id, { timeoutMs: 20 })))).toBe('TIMEOUT');
        const controller = new AbortController();
        const waiting = t.wait(job.id, { signal: controller.signal });
        controller.abort();
        expect(code(await rejection(waiting))).toBe('CANCELLED');
        expect(code(await rejection(t.wait('unknown-job-id-0000')))).toBe('JOB_NOT_FOUND');
        expect((await t.get(job.id))?.status).toBe('running');
      });

      it('close: refuses new submits, cancels queued jobs at once, lets running ones finish', async () => {
        const t = await setup({ concurrency: 1 });
        const first = await t.submit('gate', { key: 'slow-close' });
        const queued = await t.submit('echo', { text: 'never' });
        await until(running(t, first.id), 10_000, 'the first job to run');
        const closing = t.close({ timeoutMs: 30_000 });
        expect(code(await rejection(t.submit('echo', { text: 'late' })))).toBe('CLOSED');
        fx.open('slow-close');
        await closing;
        const reader = await afterClose(t);
        // A shared queue keeps its waiting jobs for the other workers.
        if (fixture.observer) expect(await reader.get(queued.id)).toMatchObject({ status: 'queued' });
        else expect(await reader.get(queued.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
        expect(await reader.get(first.id)).toMatchObject({ status: 'completed' });
      });

      it('close: running jobs that outlive timeoutMs are cancelled with code CLOSED', async () => {
        const t = await setup();
        const job = await t.submit('gate', { key: 'slow' });
        await until(running(t, job.id), 10_000, 'the job to run');
        await t.close({ timeoutMs: 20 });
        expect(await (await afterClose(t)).get(job.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
        await until(() => fx.aborted.has('slow'), 10_000, 'the abort to reach the plugin');
      });
    });
  });
}
