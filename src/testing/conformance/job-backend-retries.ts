import { isJobwireError } from '../../errors.js';
import type { JobEvent, JobSnapshot } from '../../job.js';
import type { JobTracker } from '../../tracker/job-tracker.js';
import type { FixturePlugins } from './fixture-plugins.js';
import type { TrackerSettings } from './job-backend.js';
import type { VitestApi } from './vitest-api.js';
import { collect, collectStatus, rejection, sleep, until } from './wait.js';

/** What the retry cases need of the suite that registers them. */
export interface RetryHarness {
  /** The backend's name, for skip notes. */
  readonly name: string;
  /** A tracker on a fresh backend, closed after the test. */
  setup(options?: Partial<TrackerSettings>): Promise<JobTracker>;
  /** After `t` closed: `t`, or a producer on the same queue for a distributed backend. */
  afterClose(t: JobTracker): Promise<JobTracker>;
  /** The fixture plugins of the last `setup`. */
  fx(): FixturePlugins;
  /** Whether the backend's jobs outlive its process (a shared queue). */
  readonly distributed: boolean;
}

const code = (error: unknown): string | undefined => (isJobwireError(error) ? error.code : undefined);
const ms = (iso: string | undefined): number => (iso === undefined ? Number.NaN : Date.parse(iso));

/** Backoff of the retry cases: short, fixed, no jitter. */
const FIXED_50 = { type: 'fixed', delayMs: 50 } as const;
/** Bound of the longer cases (a user's vitest may default to 5 s per test). */
const LONG = 30_000;

/**
 * Retries, delayed jobs, re-runs and schedules: what every backend honours (the engine decides,
 * the drivers keep the waits — a shared queue in its database). Real time, short delays, waits
 * for states.
 */
export function retryCases({ describe, it, expect }: VitestApi, h: RetryHarness): void {
  const status = (t: JobTracker, id: string) => async (): Promise<string | undefined> => (await t.get(id))?.status;
  const running = (t: JobTracker, id: string) => async (): Promise<boolean> => (await status(t, id)()) === 'running';
  /** Until the job waits for its `attempt`-th try (a `retrying` was committed). */
  const waitingFor = (t: JobTracker, id: string, attempt: number) => async (): Promise<boolean> => {
    const job = await t.get(id);
    return job?.status === 'queued' && job.attempt === attempt;
  };
  const types = (events: JobEvent[]): string[] => events.map((e) => e.type);

  describe('retries', () => {
    it('a plugin failing twice under attempts: 3 completes on its third try; its one log says so', async () => {
      const t = await h.setup();
      const job = await t.submit('flaky', { key: 'f', failures: 2 }, { attempts: 3, backoff: FIXED_50 });
      expect(job).toMatchObject({ status: 'queued', attempt: 1, maxAttempts: 3 });
      expect(job.runAt).toBeUndefined();
      const done = await t.wait(job.id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ status: 'completed', attempt: 3, maxAttempts: 3, result: { attempt: 3 } });
      expect(done.runAt).toBeUndefined();
      expect(h.fx().tries('f')).toEqual([1, 2, 3]);
      const events = await collectStatus(t.events(job.id));
      expect(types(events)).toEqual(['queued', 'started', 'retrying', 'started', 'retrying', 'started', 'completed']);
      expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(events.map((e) => e.job.attempt)).toEqual([1, 1, 2, 2, 3, 3, 3]);
      for (const [i, failed] of [[2, 1], [4, 2]] as const) {
        const retrying = events[i]!.job;
        expect(retrying).toMatchObject({ status: 'queued', progress: 0, lastError: { code: 'PLUGIN_FAILED', message: `try ${failed} failed` } });
        expect(retrying.runAt).toBeDefined();
        expect(retrying.error).toBeUndefined();
        // The retry waited for its backoff: it started no earlier than runAt, which is 50 ms after the failure.
        expect(ms(retrying.runAt) - ms(events[i]!.at)).toBeGreaterThanOrEqual(50);
        expect(ms(events[i + 1]!.job.startedAt)).toBeGreaterThanOrEqual(ms(retrying.runAt));
        expect(events[i + 1]!.job.runAt).toBeUndefined();
      }
      // A job without retries says so too.
      expect(await t.wait((await t.submit('echo', { text: 'once' })).id)).toMatchObject({ attempt: 1, maxAttempts: 1 });
    });

    it('typed listeners hear job:retrying; events() resumes from a seq in the middle of the tries', async () => {
      const t = await h.setup();
      const heard: number[] = [];
      t.on('job:retrying', (e) => heard.push(e.job.attempt));
      const job = await t.submit('flaky', { key: 'r', failures: 2 }, { attempts: 3, backoff: FIXED_50 });
      // A live reader from the start, and a second one opened mid-log (as a client reconnecting with Last-Event-ID).
      const whole: JobEvent[] = [];
      let resumed: Promise<JobEvent[]> | undefined;
      for await (const event of t.events(job.id)) {
        whole.push(event);
        if (event.type === 'retrying' && resumed === undefined) resumed = collect(t.events(job.id, { afterSeq: event.seq }));
      }
      expect(types(whole)).toEqual(['queued', 'started', 'retrying', 'started', 'retrying', 'started', 'completed']);
      expect(await resumed).toEqual(whole.slice(3));
      // A replay from any seq yields the rest, in order.
      for (const after of [1, 3, 4, 6]) expect(await collect(t.events(job.id, { afterSeq: after }))).toEqual(whole.filter((e) => e.seq > after));
      await until(() => heard.length === 2, 10_000, 'both retrying events to reach the listener');
      expect(heard).toEqual([2, 3]);
    });

    it('tries exhausted: the job fails on its last try, with that error and the one before', async () => {
      const t = await h.setup();
      const job = await t.submit('flaky', { key: 'x', failures: 5 }, { attempts: 2, backoff: FIXED_50 });
      const done = await t.wait(job.id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ status: 'failed', attempt: 2, maxAttempts: 2, error: { code: 'PLUGIN_FAILED', message: 'try 2 failed' }, lastError: { code: 'PLUGIN_FAILED', message: 'try 1 failed' } });
      expect(h.fx().tries('x')).toEqual([1, 2]);
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'started', 'retrying', 'started', 'failed']);
    });

    it('a NonRetryableError fails the job at once, whatever tries are left', async () => {
      const t = await h.setup();
      const job = await t.submit('fatal', { key: 'n' }, { attempts: 5, backoff: FIXED_50 });
      const done = await t.wait(job.id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ status: 'failed', attempt: 1, maxAttempts: 5, error: { code: 'PLUGIN_FAILED', message: 'no point trying n again' } });
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'started', 'failed']);
      expect(h.fx().tries('n')).toEqual([1]);
    });

    it('a TIMEOUT is retried only with retryOnTimeout', async () => {
      const t = await h.setup();
      const plain = await t.submit('flaky', { key: 'to1', failures: 1, hang: true }, { attempts: 3, backoff: FIXED_50, timeoutMs: 100 });
      expect(await t.wait(plain.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'TIMEOUT' } });
      expect(h.fx().tries('to1')).toEqual([1]);
      const retried = await t.submit('flaky', { key: 'to2', failures: 1, hang: true }, { attempts: 3, backoff: FIXED_50, timeoutMs: 100, retryOnTimeout: true });
      expect(await t.wait(retried.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', attempt: 2, result: { attempt: 2 } });
      expect(h.fx().tries('to2')).toEqual([1, 2]);
      const events = await collectStatus(t.events(retried.id));
      expect(types(events)).toEqual(['queued', 'started', 'retrying', 'started', 'completed']);
      expect(events[2]?.job.lastError?.code).toBe('TIMEOUT');
      expect(code(h.fx().aborted.get('to2'))).toBe('TIMEOUT');
    });

    it('a cancel is never retried', async () => {
      const t = await h.setup();
      const job = await t.submit('flaky', { key: 'c', failures: 1, hang: true }, { attempts: 3, backoff: FIXED_50 });
      await until(running(t, job.id), 10_000, 'the job to run');
      expect(await t.cancel(job.id, 'stop')).toMatchObject({ status: 'cancelled', attempt: 1, error: { code: 'CANCELLED', message: 'stop' } });
      await until(() => h.fx().aborted.has('c'), 10_000, 'the abort to reach the plugin');
      await sleep(400); // well past the backoff a retry would have waited
      expect(await t.get(job.id)).toMatchObject({ status: 'cancelled', attempt: 1 });
      expect(h.fx().tries('c')).toEqual([1]);
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'started', 'cancelled']);
    });

    it("a plugin's retry gives the defaults; submit options override each", async () => {
      const t = await h.setup();
      // patient: retry { attempts: 3, backoff: fixed 50 ms }.
      const byDefault = await t.submit('patient', { key: 'd1', failures: 2 });
      expect(byDefault.maxAttempts).toBe(3);
      expect(await t.wait(byDefault.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', attempt: 3 });
      const once = await t.submit('patient', { key: 'd2', failures: 2 }, { attempts: 1 });
      expect(await t.wait(once.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'failed', attempt: 1, maxAttempts: 1 });
      expect(h.fx().tries('d2')).toEqual([1]);
      const slower = await t.submit('patient', { key: 'd3', failures: 1 }, { backoff: { type: 'fixed', delayMs: 300 } });
      expect(await t.wait(slower.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', attempt: 2, maxAttempts: 3 });
      const events = await collectStatus(t.events(slower.id));
      const retrying = events.find((e) => e.type === 'retrying')!;
      expect(ms(retrying.job.runAt) - ms(retrying.at)).toBeGreaterThanOrEqual(300);
      expect(ms(events.at(-1)!.job.startedAt)).toBeGreaterThanOrEqual(ms(retrying.job.runAt));
      // Without either, one try.
      expect(await t.wait((await t.submit('flaky', { key: 'd4', failures: 1 })).id)).toMatchObject({ status: 'failed', attempt: 1, maxAttempts: 1 });
    });

    it('a retry waiting for its backoff can be cancelled: it never runs again', async () => {
      const t = await h.setup();
      const job = await t.submit('flaky', { key: 'w', failures: 1 }, { attempts: 3, backoff: { type: 'fixed', delayMs: 300 } });
      await until(waitingFor(t, job.id, 2), 10_000, 'the job to wait for its retry');
      const waiting = (await t.get(job.id))!;
      expect(waiting.runAt).toBeDefined();
      expect((await t.stats()).delayed).toBe(1);
      expect(await t.cancel(job.id)).toMatchObject({ status: 'cancelled', attempt: 2, error: { code: 'CANCELLED' } });
      expect((await t.stats()).delayed).toBe(0);
      await sleep(Math.max(0, ms(waiting.runAt) - Date.now()) + 500);
      expect(h.fx().tries('w')).toEqual([1]);
      expect(await t.get(job.id)).toMatchObject({ status: 'cancelled' });
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'started', 'retrying', 'cancelled']);
    });
  });

  describe('delayed jobs', () => {
    it('a delayed job waits queued with runAt, listed and counted as delayed, holds no slot, and starts once due', async () => {
      const t = await h.setup({ concurrency: 1 });
      const job = await t.submit('flaky', { key: 'late', failures: 0 }, { delayMs: 1_500, priority: 10 });
      expect(job).toMatchObject({ status: 'queued', attempt: 1 });
      expect(ms(job.runAt) - ms(job.createdAt)).toBeGreaterThanOrEqual(1_500);
      expect(await t.get(job.id)).toMatchObject({ status: 'queued', runAt: job.runAt });
      expect((await t.list({ status: 'queued' })).jobs.map((j) => j.id)).toEqual([job.id]);
      expect(await t.stats()).toMatchObject({ queued: 1, delayed: 1, running: 0, total: 1 });
      // The one slot is free for jobs that are due, whatever their priority.
      const now = await t.submit('echo', { text: 'now' });
      expect(await t.wait(now.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed' });
      const done = await t.wait(job.id, { timeoutMs: 10_000 });
      expect(done).toMatchObject({ status: 'completed', attempt: 1 });
      expect(done.runAt).toBeUndefined();
      expect(ms(done.startedAt)).toBeGreaterThanOrEqual(ms(job.runAt));
      expect(h.fx().tries('late')).toEqual([1]);
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'started', 'completed']);
      expect((await t.stats()).delayed).toBe(0);
    });

    it('runAt takes a Date, an ISO string or epoch ms; a time already past runs at once', async () => {
      const t = await h.setup();
      const at = Date.now() + 60_000;
      for (const runAt of [new Date(at), new Date(at).toISOString(), at]) {
        const job = await t.submit('echo', { text: 'later' }, { runAt });
        expect(job).toMatchObject({ status: 'queued', runAt: new Date(at).toISOString() });
      }
      expect((await t.stats()).delayed).toBe(3);
      const past = await t.submit('echo', { text: 'past' }, { runAt: Date.now() - 1_000 });
      expect(await t.wait(past.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed' });
      expect(code(await rejection(t.submit('echo', { text: 'x' }, { runAt: at, delayMs: 10 })))).toBe('INVALID_REQUEST');
      expect(code(await rejection(t.submit('echo', { text: 'x' }, { delayMs: -1 })))).toBe('INVALID_REQUEST');
      expect(code(await rejection(t.submit('echo', { text: 'x' }, { runAt: 'tomorrow' })))).toBe('INVALID_REQUEST');
    });

    it('a delayed job can be cancelled while it waits: the plugin is never called', async () => {
      const t = await h.setup();
      const job = await t.submit('flaky', { key: 'never', failures: 0 }, { delayMs: 300 });
      expect(await t.cancel(job.id, 'changed my mind')).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'changed my mind' } });
      expect((await t.stats()).delayed).toBe(0);
      await sleep(Math.max(0, ms(job.runAt) - Date.now()) + 500);
      expect(h.fx().tries('never')).toEqual([]);
      expect(await t.get(job.id)).toMatchObject({ status: 'cancelled' });
      expect(types(await collect(t.events(job.id)))).toEqual(['queued', 'cancelled']);
    });

    it('close: a delayed job and a waiting retry are cancelled CLOSED in one process, kept queued by a shared queue', async () => {
      const t = await h.setup();
      const delayed = await t.submit('echo', { text: 'later' }, { delayMs: 60_000 });
      const retry = await t.submit('flaky', { key: 'cl', failures: 1 }, { attempts: 2, backoff: { type: 'fixed', delayMs: 60_000 } });
      await until(waitingFor(t, retry.id, 2), 10_000, 'the job to wait for its retry');
      await t.close({ timeoutMs: 0 });
      const reader = await h.afterClose(t);
      for (const id of [delayed.id, retry.id]) {
        if (h.distributed) expect((await reader.get(id))?.status).toBe('queued');
        else expect(await reader.get(id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
      }
      if (h.distributed) expect(await reader.get(retry.id)).toMatchObject({ attempt: 2, runAt: expect.any(String) as unknown });
    });
  });

  describe('re-runs', () => {
    it('retry(id) of a failed or cancelled job submits a new one with the same plugin, input and options; the old one stays', async () => {
      const t = await h.setup();
      const options = { tenantId: 't1', workspaceId: 'w1', metadata: { m: 1 }, priority: 2, timeoutMs: 5_000, attempts: 2, backoff: FIXED_50, idempotencyKey: 'once' };
      const failed = await t.wait((await t.submit('flaky', { key: 'rr', failures: 5 }, options)).id, { timeoutMs: 10_000 });
      expect(failed).toMatchObject({ status: 'failed', attempt: 2 });
      const again = await t.retry(failed.id);
      expect(again.id).not.toBe(failed.id);
      expect(again).toMatchObject({ status: 'queued', plugin: 'flaky', input: { key: 'rr', failures: 5 }, retryOf: failed.id, attempt: 1, maxAttempts: 2, tenantId: 't1', workspaceId: 'w1', metadata: { m: 1 }, priority: 2 });
      expect(again.lastError).toBeUndefined();
      expect(await t.get(failed.id)).toEqual(failed);
      // The idempotency key stays with the old job: a submit with it still finds that one.
      expect((await t.submit('flaky', { key: 'rr', failures: 5 }, options)).id).toBe(failed.id);
      expect(await t.wait(again.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'failed', attempt: 2, retryOf: failed.id });
      // The new job's tries count from 1 again.
      expect(h.fx().tries('rr')).toEqual([1, 2, 1, 2]);

      const gated = await t.submit('gate', { key: 'rc' });
      const cancelled = await t.cancel(gated.id);
      const rerun = await t.retry(cancelled.id);
      expect(rerun).toMatchObject({ status: 'queued', plugin: 'gate', input: { key: 'rc' }, retryOf: cancelled.id });
      await until(running(t, rerun.id), 10_000, 'the re-run to start');
      h.fx().open('rc');
      expect(await t.wait(rerun.id)).toMatchObject({ status: 'completed' });
      expect(await t.get(cancelled.id)).toEqual(cancelled);

      // The re-run keeps the timeout.
      const timedOut = await t.wait((await t.submit('gate', { key: 'rt' }, { timeoutMs: 100 })).id, { timeoutMs: 10_000 });
      expect(timedOut.error?.code).toBe('TIMEOUT');
      expect(await t.wait((await t.retry(timedOut.id)).id, { timeoutMs: 10_000 })).toMatchObject({ status: 'failed', error: { code: 'TIMEOUT' }, retryOf: timedOut.id });
    });

    it('retry(id) of a queued, delayed, running or completed job is INVALID_REQUEST; of an unknown one, JOB_NOT_FOUND', async () => {
      const t = await h.setup({ concurrency: 1 });
      const runningJob = await t.submit('gate', { key: 'busy' });
      const queued = await t.submit('echo', { text: 'waits' });
      const delayed = await t.submit('echo', { text: 'later' }, { delayMs: 60_000 });
      await until(running(t, runningJob.id), 10_000, 'the job to run');
      for (const id of [runningJob.id, queued.id, delayed.id]) expect(code(await rejection(t.retry(id)))).toBe('INVALID_REQUEST');
      h.fx().open('busy');
      const completed = await t.wait(queued.id);
      expect(code(await rejection(t.retry(completed.id)))).toBe('INVALID_REQUEST');
      expect(code(await rejection(t.retry('unknown-job-id-0000')))).toBe('JOB_NOT_FOUND');
      expect((await t.list({ limit: 100 })).jobs).toHaveLength(3);
    });
  });

  describe('schedules', () => {
    /** The tracker, or a skip (with the reason) when the backend keeps no schedules. */
    async function scheduling(skip: (note: string) => never): Promise<JobTracker> {
      const t = await h.setup();
      const probe = await t.schedules().then(
        () => undefined,
        (error: unknown) => error,
      );
      if (code(probe) === 'INVALID_CONFIG') {
        const note = `${h.name} keeps no schedules (its drivers have no scheduler): the schedule cases do not apply`;
        console.warn(`SKIPPED: ${note}`);
        skip(note);
      }
      if (probe !== undefined) throw probe;
      return t;
    }
    const ticked = async (t: JobTracker, key: string): Promise<JobSnapshot[]> => (await t.list({ limit: 1_000 })).jobs.filter((job) => job.scheduleKey === key);

    it(
      'an everyMs schedule ticks at once and then every everyMs; schedules() lists it; unschedule stops it',
      async ({ skip }) => {
        const t = await scheduling(skip);
        expect(await t.schedules()).toEqual([]);
        await t.schedule('beat', { everyMs: 1_000, plugin: 'echo', input: { text: 'tick' }, options: { tenantId: 's', metadata: { from: 'schedule' } } });
        await until(async () => (await ticked(t, 'beat')).length >= 2, 10_000, 'two ticks');
        const jobs = await ticked(t, 'beat');
        for (const job of jobs) expect(job).toMatchObject({ plugin: 'echo', input: { text: 'tick' }, scheduleKey: 'beat', tenantId: 's', metadata: { from: 'schedule' } });
        expect((await t.wait(jobs.at(-1)!.id, { timeoutMs: 10_000 })).result).toEqual({ echo: 'tick' });
        const [info, ...others] = await t.schedules();
        expect(others).toEqual([]);
        expect(info).toMatchObject({ key: 'beat', everyMs: 1_000, plugin: 'echo' });
        expect(info?.cron).toBeUndefined();
        expect(Number.isNaN(ms(info?.next))).toBe(false);
        expect(ms(info?.next)).toBeGreaterThan(Date.now() - 2_000);
        // An upsert replaces the schedule of its key.
        await t.schedule('beat', { everyMs: 2_000, plugin: 'echo', input: { text: 'tock' } });
        expect((await t.schedules()).map((s) => [s.key, s.everyMs])).toEqual([['beat', 2_000]]);

        expect(await t.unschedule('beat')).toBe(true);
        expect(await t.unschedule('beat')).toBe(false);
        expect(await t.schedules()).toEqual([]);
        await sleep(300); // a tick handed out before the removal may still land
        const settled = (await ticked(t, 'beat')).length;
        await sleep(2_300);
        expect((await ticked(t, 'beat')).length).toBe(settled);
      },
      LONG,
    );

    it(
      'a cron schedule (6 fields, with seconds) ticks, and is listed with its pattern and time zone',
      async ({ skip }) => {
        const t = await scheduling(skip);
        await t.schedule('each-second', { cron: '* * * * * *', tz: 'UTC', plugin: 'echo', input: { text: 'cron' } });
        const [info] = await t.schedules();
        expect(info).toMatchObject({ key: 'each-second', cron: '* * * * * *', tz: 'UTC', plugin: 'echo' });
        expect(info?.everyMs).toBeUndefined();
        expect(ms(info?.next) % 1_000).toBe(0);
        await until(async () => (await ticked(t, 'each-second')).length >= 1, 10_000, 'a tick');
        const [job] = await ticked(t, 'each-second');
        expect(await t.wait(job!.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', scheduleKey: 'each-second', result: { echo: 'cron' } });
        expect(await t.unschedule('each-second')).toBe(true);
      },
      LONG,
    );

    it(
      'a new input on the same timing keeps the next tick; the next job carries the new input',
      async ({ skip }) => {
        const t = await scheduling(skip);
        const everyMs = 4_000;
        await t.schedule('keep', { everyMs, plugin: 'echo', input: { text: 'old' } });
        await until(async () => (await ticked(t, 'keep')).length >= 1, 10_000, 'the first tick');
        const next = ms((await t.schedules())[0]?.next);
        expect(next).toBeGreaterThan(Date.now() - 1_000);
        // The same timing, a new input and new options (say, a deploy changed them): the next tick
        // stays where it was, and no tick is added for the upsert.
        await t.schedule('keep', { everyMs, plugin: 'echo', input: { text: 'new' }, options: { metadata: { v: 2 } } });
        const [kept] = await t.schedules();
        const checkedAt = Date.now();
        expect(kept).toMatchObject({ key: 'keep', everyMs, plugin: 'echo' });
        // (Only a machine stalled for seconds reads the list after that tick: then it moved on.)
        if (checkedAt < next) expect(ms(kept?.next)).toBe(next);
        await until(async () => (await ticked(t, 'keep')).length >= 2, 10_000 + everyMs, 'the next tick');
        const [first, second, ...more] = (await ticked(t, 'keep')).sort((a, b) => ms(a.createdAt) - ms(b.createdAt));
        expect(more).toEqual([]);
        expect(first).toMatchObject({ input: { text: 'old' } });
        expect(first?.metadata).not.toEqual({ v: 2 });
        expect(second).toMatchObject({ input: { text: 'new' }, metadata: { v: 2 } });
        expect(ms(second?.createdAt)).toBeGreaterThanOrEqual(next);
        expect((await t.wait(second!.id, { timeoutMs: 10_000 })).result).toEqual({ echo: 'new' });

        // A new timing starts over: an interval ticks at once, not on the old one's grid. Read just
        // after the upsert, its next tick is due now, or (already handed out) an hour on.
        await t.schedule('keep', { everyMs: 3_600_000, plugin: 'echo', input: { text: 'hourly' } });
        const restarted = ms((await t.schedules())[0]?.next);
        const readAt = Date.now();
        expect(restarted <= readAt || restarted > readAt + 3_000_000).toBe(true);
        await until(async () => (await ticked(t, 'keep')).some((job) => (job.input as { text?: string }).text === 'hourly'), 10_000, 'the new timing to tick at once');
        await until(async () => ms((await t.schedules())[0]?.next) > Date.now() + 3_000_000, 10_000, 'the next tick an hour on');
        expect(await t.unschedule('keep')).toBe(true);
      },
      LONG,
    );

    it('bad schedules are refused with a typed error and store nothing', async ({ skip }) => {
      const t = await scheduling(skip);
      const refused = async (spec: Parameters<JobTracker['schedule']>[1]): Promise<string | undefined> => code(await rejection(t.schedule('bad', spec)));
      // Both timings, or none: refused by the types too, so a JavaScript caller's mistake is what is tested.
      expect(await refused({ cron: '* * * * *', everyMs: 1_000, plugin: 'echo', input: { text: 'x' } } as never)).toBe('INVALID_REQUEST');
      expect(await refused({ plugin: 'echo', input: { text: 'x' } } as never)).toBe('INVALID_REQUEST');
      expect(await refused({ cron: 'not a cron', plugin: 'echo', input: { text: 'x' } })).toBe('INVALID_REQUEST');
      expect(await refused({ cron: '* * * * *', tz: 'Mars/Olympus_Mons', plugin: 'echo', input: { text: 'x' } })).toBe('INVALID_REQUEST');
      expect(await refused({ everyMs: 10, plugin: 'echo', input: { text: 'x' } })).toBe('INVALID_REQUEST');
      expect(await refused({ everyMs: 1_000, plugin: 'nope', input: {} })).toBe('PLUGIN_NOT_FOUND');
      expect(await refused({ everyMs: 1_000, plugin: 'echo', input: { text: 42 } })).toBe('INVALID_INPUT');
      expect(await refused({ everyMs: 1_000, plugin: 'echo', input: { text: 'x' }, options: { priority: Number.NaN } })).toBe('INVALID_REQUEST');
      expect(await t.schedules()).toEqual([]);
      expect((await t.list()).jobs).toEqual([]);
    });
  });
}
