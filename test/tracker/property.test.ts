import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError, isTerminalStatus, JobTracker, LocalPluginManager, MemoryBackend, NonRetryableError, type JobEvent, type JobStatus, type JobStatusEvent } from '../../src/index.js';
import { canTransition } from '../../src/backend/index.js';

type Op =
  | {
      kind: 'submit';
      priority: number;
      timeoutMs: number | undefined;
      /** Tries in all, and the fixed backoff between them (at least 1 ms: a retry waits for a timer). */
      attempts: number;
      backoffMs: number;
      retryOnTimeout: boolean;
      /** A delayed job. */
      delayMs: number | undefined;
    }
  | { kind: 'cancel' | 'cancel-delayed' | 'complete' | 'fail' | 'fail-for-good' | 'progress' | 'remove' | 'retry'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' };

const submitArb = fc.record({
  kind: fc.constant('submit' as const),
  priority: fc.integer({ min: 0, max: 3 }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }),
  attempts: fc.integer({ min: 1, max: 3 }),
  backoffMs: fc.integer({ min: 1, max: 30 }),
  retryOnTimeout: fc.boolean(),
  delayMs: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined, freq: 3 }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: submitArb },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constantFrom('cancel' as const, 'cancel-delayed' as const, 'complete' as const, 'fail' as const, 'fail-for-good' as const, 'progress' as const, 'remove' as const, 'retry' as const),
      pick: fc.nat(),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

/** Let promise chains (p-queue, plugin settlement, iterators) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 100; i++) await Promise.resolve();
}

const codeOf = (error: unknown): string | undefined => (isJobwireError(error) ? error.code : undefined);

describe('property: random operation sequences against a model', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the transition table, loses and duplicates nothing, and streams gap-free events', async () => {
    /** What the runs exercised, over all of them: each must have happened at least once. */
    const seen = { retried: 0, retryRan: 0, delayedRan: 0, cancelledWhileDelayed: 0, rerun: 0 };
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40, size: 'max' }), fc.integer({ min: 1, max: 3 }), async (ops, concurrency) => {
        /** The plugin call of each job's latest try (a try that timed out may still be pending: settling it late frees its slot). */
        const controls = new Map<string, { attempt: number; resolve: (v: unknown) => void; reject: (e: unknown) => void; progress: (p: number) => void }>();
        const plugin = definePlugin({
          name: 'ctl',
          input: z.object({}),
          run: (_input, ctx) =>
            new Promise((resolve, reject) => {
              controls.set(ctx.jobId, { attempt: ctx.attempt, resolve, reject, progress: (p) => ctx.progress(p) });
            }),
        });
        const ttlMs = 100;
        const backend = new MemoryBackend();
        const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), concurrency, ttlMs, sweepIntervalMs: 1_000, backend });

        const submitted: string[] = [];
        /** Starts a prompt live reader of a new job's events. */
        const follow = (id: string): void => {
          submitted.push(id);
          const seqs: number[] = [];
          live.set(id, seqs);
          liveDone.push(
            (async () => {
              for await (const event of tracker.events(id)) seqs.push(event.seq);
            })(),
          );
        };
        const removedExplicitly = new Set<string>();
        const removedAny = new Set<string>();
        const history = new Map<string, JobStatusEvent[]>();
        const live = new Map<string, number[]>();
        const liveDone: Promise<void>[] = [];
        tracker.on('job:removed', (e) => removedAny.add(e.jobId));
        for (const type of ['queued', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled'] as const) {
          tracker.on(`job:${type}`, (event) => {
            const list = history.get(event.jobId) ?? [];
            list.push(event);
            history.set(event.jobId, list);
          });
        }

        for (const op of ops) {
          let target = submitted.length > 0 && 'pick' in op ? submitted[op.pick % submitted.length]! : undefined;
          if (op.kind === 'cancel-delayed') {
            // A job waiting for its runAt (delayed, or a retry waiting for its backoff), when there is one.
            const waiting: string[] = [];
            for (const id of submitted) if ((await tracker.get(id))?.runAt !== undefined) waiting.push(id);
            target = waiting.length > 0 ? waiting[op.pick % waiting.length] : undefined;
          }
          const before = target === undefined ? undefined : await tracker.get(target);
          switch (op.kind) {
            case 'submit': {
              const job = await tracker.submit(plugin, {}, {
                priority: op.priority,
                attempts: op.attempts,
                backoff: { type: 'fixed', delayMs: op.backoffMs },
                retryOnTimeout: op.retryOnTimeout,
                ...(op.timeoutMs ? { timeoutMs: op.timeoutMs } : {}),
                ...(op.delayMs ? { delayMs: op.delayMs } : {}),
              });
              expect(job).toMatchObject({ status: 'queued', attempt: 1, maxAttempts: op.attempts });
              if (op.delayMs) expect(Date.parse(job.runAt!)).toBe(Date.now() + op.delayMs);
              else expect(job.runAt).toBeUndefined();
              follow(job.id);
              break;
            }
            case 'cancel':
            case 'cancel-delayed':
              if (target !== undefined && before) {
                if (op.kind === 'cancel-delayed') expect(before).toMatchObject({ status: 'queued', runAt: expect.any(String) as unknown });
                const after = await tracker.cancel(target);
                expect(after.status).toBe(isTerminalStatus(before.status) ? before.status : 'cancelled');
                if (before.runAt !== undefined) seen.cancelledWhileDelayed++;
                expect(after.runAt).toBeUndefined();
              }
              break;
            case 'complete':
            case 'fail':
            case 'fail-for-good':
            case 'progress': {
              const control = target === undefined ? undefined : controls.get(target);
              if (control && before) {
                if (op.kind === 'complete') control.resolve('done');
                else if (op.kind === 'fail') control.reject(new Error('failed on purpose'));
                else if (op.kind === 'fail-for-good') control.reject(new NonRetryableError('no use trying again'));
                else control.progress(50);
                await flush();
                const after = await tracker.get(target!);
                const current = before.status === 'running' && control.attempt === before.attempt;
                const retries = op.kind === 'fail' && before.attempt < before.maxAttempts;
                const expected: JobStatus =
                  !current ? before.status : op.kind === 'complete' ? 'completed' : op.kind === 'progress' ? 'running' : retries ? 'queued' : 'failed';
                // A late settle of an earlier try changes nothing for the job, but it frees that try's slot: a job waiting for it may start.
                if (!current && before.status === 'queued' && after?.status === 'running') expect(after.attempt).toBe(before.attempt);
                else expect(after?.status).toBe(expected);
                if (current && retries) {
                  expect(after).toMatchObject({ attempt: before.attempt + 1, lastError: { code: 'PLUGIN_FAILED', message: 'failed on purpose' } });
                  expect(Date.parse(after!.runAt!)).toBeGreaterThan(Date.now());
                } else if (current && expected === 'failed') {
                  expect(after?.attempt).toBe(before.attempt);
                }
              }
              break;
            }
            case 'retry':
              if (target !== undefined) {
                const rerun = tracker.retry(target);
                if (!before) expect(codeOf(await rerun.catch((error: unknown) => error))).toBe('JOB_NOT_FOUND');
                else if (before.status !== 'failed' && before.status !== 'cancelled') expect(codeOf(await rerun.catch((error: unknown) => error))).toBe('INVALID_REQUEST');
                else {
                  const job = await rerun;
                  expect(job).toMatchObject({ status: 'queued', attempt: 1, maxAttempts: before.maxAttempts, retryOf: target, priority: before.priority });
                  expect(job.id).not.toBe(target);
                  // The old job stays as it was (unless its TTL ran out meanwhile).
                  const old = await tracker.get(target);
                  if (old) expect(old).toEqual(before);
                  follow(job.id);
                  seen.rerun++;
                }
              }
              break;
            case 'remove':
              if (target !== undefined) {
                expect(await tracker.remove(target)).toBe(before !== undefined);
                removedExplicitly.add(target);
                expect(await tracker.get(target)).toBeUndefined();
              }
              break;
            case 'advance':
              await vi.advanceTimersByTimeAsync(op.ms);
              break;
            case 'sweep':
              backend.sweep();
              break;
          }
          await flush();

          // Invariants after every step.
          const page = await tracker.list({ limit: 1000 });
          const ids = page.jobs.map((j) => j.id);
          expect(new Set(ids).size).toBe(ids.length);
          const stats = await tracker.stats();
          expect(stats.total).toBe(ids.length);
          expect(stats.running).toBeLessThanOrEqual(concurrency);
          expect(stats.delayed).toBeLessThanOrEqual(stats.queued);
          expect(stats.delayed).toBe(page.jobs.filter((j) => j.status === 'queued' && Date.parse(j.runAt ?? '0') > Date.now()).length);
          for (const id of submitted) {
            const job = await tracker.get(id);
            if (job) {
              expect(job.attempt).toBeGreaterThanOrEqual(1);
              expect(job.attempt).toBeLessThanOrEqual(job.maxAttempts);
              if (job.runAt !== undefined) expect(job.status).toBe('queued');
              continue;
            }
            // Gone only when removed by hand or by TTL after finishing.
            const last = history.get(id)?.at(-1);
            const expiredByTtl = last !== undefined && isTerminalStatus(last.job.status) && Date.now() >= Date.parse(last.at) + ttlMs;
            expect(removedExplicitly.has(id) || expiredByTtl, `job ${id} vanished`).toBe(true);
            expect(removedAny.has(id)).toBe(true);
          }
        }

        // Finish everything, then check every job's whole history.
        const closing = tracker.close({ timeoutMs: 0 });
        await vi.advanceTimersByTimeAsync(1);
        await closing;
        await flush();
        await Promise.all(liveDone);
        for (const id of submitted) {
          const events = history.get(id) ?? [];
          expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
          expect(events[0]?.type).toBe('queued');
          const terminal = events.filter((e) => isTerminalStatus(e.job.status));
          expect(terminal).toHaveLength(1);
          expect(events.at(-1)).toBe(terminal[0]);
          for (let i = 1; i < events.length; i++) {
            const from = events[i - 1]!.job.status;
            const to = events[i]!.job.status;
            expect(from === to || canTransition(from, to), `${from} → ${to}`).toBe(true);
            // Tries only count up, one per retrying event, never past maxAttempts.
            const step = events[i]!.job.attempt - events[i - 1]!.job.attempt;
            expect(step).toBe(events[i]!.type === 'retrying' ? 1 : 0);
          }
          for (const event of events) {
            expect(event.job.attempt).toBeGreaterThanOrEqual(1);
            expect(event.job.attempt).toBeLessThanOrEqual(event.job.maxAttempts);
            if (event.type === 'retrying') {
              expect(event.job).toMatchObject({ status: 'queued', progress: 0, lastError: { code: expect.stringMatching(/^(PLUGIN_FAILED|TIMEOUT)$/) as unknown } });
              expect(Date.parse(event.job.runAt!)).toBeGreaterThanOrEqual(Date.parse(event.at));
              expect(events[events.indexOf(event) - 1]?.job.status).toBe('running');
            }
            if (event.job.runAt !== undefined) expect(event.job.status).toBe('queued');
          }
          if (events.some((e) => e.type === 'retrying')) {
            seen.retried++;
            if (events.some((e) => e.type === 'started' && e.job.attempt > 1)) seen.retryRan++;
          }
          if (events[0]?.job.runAt !== undefined && events.some((e) => e.type === 'started')) seen.delayedRan++;
          // Each try that started follows the one before it; one started event per try that ran.
          const starts = events.filter((e) => e.type === 'started').map((e) => e.job.attempt);
          expect(starts).toEqual(starts.map((_, i) => i + 1));
          // A prompt live reader saw exactly the emitted seqs, no gap, ending at the terminal one.
          expect(live.get(id)).toEqual(events.map((e) => e.seq));
          // A replay (if the job is still held) yields increasing seqs, every status event, one terminal last.
          if (await tracker.get(id)) {
            const replay: JobEvent[] = [];
            for await (const event of tracker.events(id)) replay.push(event);
            const statusSeqs = events.filter((e) => e.type !== 'progress').map((e) => e.seq);
            expect(replay.filter((e) => e.type !== 'progress').map((e) => e.seq)).toEqual(statusSeqs);
            expect(replay.map((e) => e.seq)).toEqual([...replay.map((e) => e.seq)].sort((a, b) => a - b));
            expect(replay.at(-1)?.seq).toBe(events.at(-1)?.seq);
            // Any skipped seq is a progress event superseded by a later progress before the next kept event.
            const kept = new Set(replay.map((e) => e.seq));
            for (const event of events) {
              if (kept.has(event.seq)) continue;
              expect(event.type).toBe('progress');
              expect(events[event.seq]?.type).toBe('progress');
            }
          }
        }
      }),
      { numRuns: 150 },
    );
    for (const [what, count] of Object.entries(seen)) expect(count, what).toBeGreaterThan(0);
  }, 60_000);
});
