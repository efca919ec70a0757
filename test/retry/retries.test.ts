import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, NonRetryableError, type JobSnapshot, type JobStatusEvent, type JobTrackerOptions } from '../../src/index.js';
import { codeOf } from '../helpers/codes.js';
import { deferred } from '../helpers/deferred.js';

/** The tries a plugin saw, and a way to make a try hang until released. */
function setup(options: Partial<JobTrackerOptions> = {}) {
  const tries: { jobId: string; attempt: number }[] = [];
  let hang: Promise<void> | undefined;
  const flaky = definePlugin({
    name: 'flaky',
    input: z.object({ failFirst: z.number().int().default(0), fatal: z.boolean().default(false), hangMs: z.number().int().default(0), badProgress: z.boolean().default(false) }),
    retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 1000 } },
    async run(input, ctx) {
      tries.push({ jobId: ctx.jobId, attempt: ctx.attempt });
      if (hang) await hang;
      if (input.hangMs > 0) {
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, input.hangMs);
          ctx.signal.addEventListener('abort', () => {
            clearTimeout(timer);
            reject(ctx.signal.reason as Error);
          });
        });
      }
      if (input.badProgress) ctx.progress(Number.NaN);
      if (input.fatal) throw new NonRetryableError('the file does not exist');
      if (ctx.attempt <= input.failFirst) throw new Error(`flaky service (try ${ctx.attempt})`);
      return { attempt: ctx.attempt };
    },
  });
  const plugins = new LocalPluginManager();
  plugins.register(flaky);
  const tracker = new JobTracker({ plugins, ...options });
  return {
    tracker,
    tries,
    hangTries(until: Promise<void> | undefined) {
      hang = until;
    },
  };
}

/** Advance the fake clock until `predicate` holds on the job (bounded: a wrong engine never gets there). */
async function advanceUntil(tracker: JobTracker, id: string, predicate: (job: JobSnapshot) => boolean, stepMs = 10, maxMs = 120_000): Promise<JobSnapshot> {
  for (let spent = 0; spent <= maxMs; spent += stepMs) {
    const job = await tracker.get(id);
    if (job && predicate(job)) return job;
    await vi.advanceTimersByTimeAsync(stepMs);
  }
  throw new Error(`job ${id} never reached the state; it is ${JSON.stringify(await tracker.get(id))}`);
}

describe('retries on the memory backend (fake timers)', () => {
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

  it('waits the backoff before each retry: exponential, from the time the try failed', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const retries: JobStatusEvent[] = [];
    tracker.on('job:retrying', (event) => retries.push(event));
    const job = await tracker.submit('flaky', { failFirst: 2 });
    const first = await advanceUntil(tracker, job.id, (current) => current.attempt === 2, 1);
    expect(first).toMatchObject({ status: 'queued', attempt: 2, maxAttempts: 3, lastError: { code: 'PLUGIN_FAILED', message: 'flaky service (try 1)' } });
    expect(Date.parse(first.runAt!) - Date.parse(retries[0]!.at)).toBe(1000);
    await vi.advanceTimersByTimeAsync(Date.parse(first.runAt!) - Date.now() - 1);
    expect(fx.tries).toHaveLength(1); // not a millisecond early
    const second = await advanceUntil(tracker, job.id, (current) => current.attempt === 3, 1);
    expect(fx.tries).toHaveLength(2);
    expect(Date.parse(second.runAt!) - Date.parse(retries[1]!.at)).toBe(2000); // doubled
    const done = await advanceUntil(tracker, job.id, (current) => current.status === 'completed');
    expect(done).toMatchObject({ attempt: 3, maxAttempts: 3, result: { attempt: 3 }, lastError: { message: 'flaky service (try 2)' } });
    expect(done.runAt).toBeUndefined();
    expect(fx.tries.map((t) => t.attempt)).toEqual([1, 2, 3]);
  });

  it('emits job:retrying with the queued snapshot, runAt and lastError', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const heard: JobStatusEvent[] = [];
    tracker.on('job:retrying', (event) => heard.push(event));
    const job = await tracker.submit('flaky', { failFirst: 1 });
    await advanceUntil(tracker, job.id, (current) => current.status === 'completed');
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ type: 'retrying', jobId: job.id, job: { status: 'queued', attempt: 2, lastError: { code: 'PLUGIN_FAILED' } } });
    expect(heard[0]!.job.runAt).toBeDefined();
  });

  it('submit options override the plugin’s policy: attempts 1 fails at once', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const job = await tracker.submit('flaky', { failFirst: 1 }, { attempts: 1 });
    const failed = await advanceUntil(tracker, job.id, (current) => current.status === 'failed');
    expect(failed).toMatchObject({ attempt: 1, maxAttempts: 1, error: { code: 'PLUGIN_FAILED' } });
    expect(failed.lastError).toBeUndefined();
  });

  it('a NonRetryableError fails the job at once, whatever tries are left', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const job = await tracker.submit('flaky', { fatal: true });
    const failed = await advanceUntil(tracker, job.id, (current) => current.status === 'failed');
    expect(failed).toMatchObject({ attempt: 1, maxAttempts: 3, error: { code: 'PLUGIN_FAILED', message: 'the file does not exist' } });
    expect(fx.tries).toHaveLength(1);
  });

  it('a bad ctx.progress value fails at once (a bug another try would repeat)', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const job = await tracker.submit('flaky', { badProgress: true });
    const failed = await advanceUntil(tracker, job.id, (current) => current.status === 'failed');
    expect(failed.attempt).toBe(1);
    expect(fx.tries).toHaveLength(1);
  });

  it('retries a timeout only with retryOnTimeout', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const plain = await tracker.submit('flaky', { hangMs: 10_000 }, { timeoutMs: 100 });
    expect(await advanceUntil(tracker, plain.id, (current) => current.status === 'failed')).toMatchObject({ attempt: 1, error: { code: 'TIMEOUT' } });
    const retried = await tracker.submit('flaky', { hangMs: 10_000 }, { timeoutMs: 100, retryOnTimeout: true, attempts: 2, backoff: { type: 'fixed', delayMs: 50 } });
    const waiting = await advanceUntil(tracker, retried.id, (current) => current.attempt === 2);
    expect(waiting).toMatchObject({ status: 'queued', lastError: { code: 'TIMEOUT' } });
    expect(await advanceUntil(tracker, retried.id, (current) => current.status === 'failed')).toMatchObject({ attempt: 2, maxAttempts: 2, error: { code: 'TIMEOUT' }, lastError: { code: 'TIMEOUT' } });
    expect(fx.tries.filter((t) => t.jobId === retried.id).map((t) => t.attempt)).toEqual([1, 2]);
  });

  it('a cancel during the backoff wait ends the job; the plugin is not called again', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const job = await tracker.submit('flaky', { failFirst: 2 });
    await advanceUntil(tracker, job.id, (current) => current.attempt === 2, 1);
    expect((await tracker.cancel(job.id, 'enough')).status).toBe('cancelled');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(fx.tries).toHaveLength(1);
    expect(await tracker.get(job.id)).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED', message: 'enough' } });
  });

  it('a delayed job waits queued with runAt, counts as delayed, starts when due, not before', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const submittedAt = Date.now();
    const job = await tracker.submit('flaky', {}, { delayMs: 5_000 });
    expect(job).toMatchObject({ status: 'queued', runAt: new Date(submittedAt + 5_000).toISOString() });
    expect(await tracker.stats()).toMatchObject({ queued: 1, delayed: 1 });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(fx.tries).toHaveLength(0);
    const done = await advanceUntil(tracker, job.id, (current) => current.status === 'completed', 1);
    expect(Date.parse(done.startedAt!)).toBe(submittedAt + 5_000);
    expect(await tracker.stats()).toMatchObject({ queued: 0, delayed: 0 });
  });

  it('runAt takes a Date, an ISO string or epoch ms; a past time runs at once', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const at = Date.now() + 60_000;
    const paris = new Date(at).toISOString().replace('Z', '+00:00');
    for (const runAt of [new Date(at), new Date(at).toISOString(), paris, at]) {
      expect((await tracker.submit('flaky', {}, { runAt })).runAt).toBe(new Date(at).toISOString());
    }
    const past = await tracker.submit('flaky', {}, { runAt: Date.now() - 1 });
    expect(past.runAt).toBeUndefined();
    expect((await advanceUntil(tracker, past.id, (current) => current.status === 'completed')).attempt).toBe(1);
  });

  it('a delayed job does not take a slot while it waits: others run', async () => {
    const fx = setup({ concurrency: 1 });
    tracker = fx.tracker;
    const later = await tracker.submit('flaky', {}, { delayMs: 60_000 });
    const now = await tracker.submit('flaky', {});
    await advanceUntil(tracker, now.id, (current) => current.status === 'completed');
    expect((await tracker.get(later.id))?.status).toBe('queued');
  });

  it('close() cancels delayed jobs and waiting retries with CLOSED', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const delayed = await tracker.submit('flaky', {}, { delayMs: 60_000 });
    const retrying = await tracker.submit('flaky', { failFirst: 2 });
    await advanceUntil(tracker, retrying.id, (current) => current.attempt === 2);
    await tracker.close({ timeoutMs: 0 });
    expect(await tracker.get(delayed.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED', message: 'Tracker closed before the job started' } });
    expect(await tracker.get(retrying.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED', message: 'Tracker closed while the job waited to be retried' } });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(fx.tries).toHaveLength(1);
  });

  it('close() cancels a job whose try failed during the shutdown grace instead of leaving it queued', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const release = deferred<void>();
    fx.hangTries(release.promise);
    const job = await tracker.submit('flaky', { failFirst: 1 });
    await advanceUntil(tracker, job.id, (current) => current.status === 'running');
    const closing = tracker.close({ timeoutMs: 10_000 });
    release.resolve(); // the try fails now, while the tracker waits for it
    await vi.advanceTimersByTimeAsync(0);
    await closing;
    expect(await tracker.get(job.id)).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
  });
});

describe('tracker.retry (re-run as a new job)', () => {
  let tracker: JobTracker | undefined;
  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    tracker = undefined;
  });

  it('re-runs a failed job with the same plugin, input and options; the old one stays as it was', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const old = await tracker.submit('flaky', { fatal: true }, { tenantId: 'acme', workspaceId: 'w', metadata: { from: 'test' }, priority: 7, timeoutMs: 60_000, attempts: 2, backoff: { type: 'fixed', delayMs: 5 }, idempotencyKey: 'k1' });
    const failed = await tracker.wait(old.id);
    const again = await tracker.retry(old.id);
    expect(again.id).not.toBe(old.id);
    expect(again).toMatchObject({ plugin: 'flaky', input: old.input, tenantId: 'acme', workspaceId: 'w', metadata: { from: 'test' }, priority: 7, maxAttempts: 2, attempt: 1, retryOf: old.id, status: 'queued' });
    expect(await tracker.get(old.id)).toEqual(failed);
    await tracker.wait(again.id);
    // The idempotency key stays with the old job: a second re-run makes another new job.
    expect((await tracker.retry(old.id)).id).not.toBe(again.id);
  });

  it('re-runs a cancelled job', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const old = await tracker.submit('flaky', {}, { delayMs: 60_000 });
    await tracker.cancel(old.id);
    const again = await tracker.retry(old.id);
    expect(again).toMatchObject({ retryOf: old.id, status: 'queued' });
    expect(again.runAt).toBeUndefined(); // a re-run starts now, not after the old delay
    expect((await tracker.wait(again.id)).status).toBe('completed');
  });

  it('refuses a live or completed job with INVALID_REQUEST and an unknown one with JOB_NOT_FOUND', async () => {
    const fx = setup();
    tracker = fx.tracker;
    const waiting = await tracker.submit('flaky', {}, { delayMs: 60_000 });
    expect(await codeOf(tracker.retry(waiting.id))).toBe('INVALID_REQUEST');
    const done = await tracker.submit('flaky', {});
    await tracker.wait(done.id);
    expect(await codeOf(tracker.retry(done.id))).toBe('INVALID_REQUEST');
    expect(await codeOf(tracker.retry('nope'))).toBe('JOB_NOT_FOUND');
    expect(await codeOf(tracker.retry(42 as never))).toBe('JOB_NOT_FOUND');
  });
});
