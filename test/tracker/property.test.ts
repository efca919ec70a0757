import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, isTerminalStatus, JobTracker, LocalPluginManager, MemoryBackend, type JobEvent, type JobStatus } from '../../src/index.js';
import { canTransition } from '../../src/backend/index.js';

type Op =
  | { kind: 'submit'; priority: number; timeoutMs: number | undefined }
  | { kind: 'cancel' | 'complete' | 'fail' | 'progress' | 'remove'; pick: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('submit' as const), priority: fc.integer({ min: 0, max: 3 }), timeoutMs: fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }) }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constantFrom('cancel' as const, 'complete' as const, 'fail' as const, 'progress' as const, 'remove' as const), pick: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: 60 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sweep' as const) }) },
);

/** Let promise chains (p-queue, plugin settlement, iterators) run. */
async function flush(): Promise<void> {
  for (let i = 0; i < 10; i++) await Promise.resolve();
}

describe('property: random operation sequences against a model', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the transition table, loses and duplicates nothing, and streams gap-free events', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 3 }), async (ops, concurrency) => {
        const controls = new Map<string, { resolve: (v: unknown) => void; reject: (e: unknown) => void; progress: (p: number) => void }>();
        const plugin = definePlugin({
          name: 'ctl',
          input: z.object({}),
          run: (_input, ctx) =>
            new Promise((resolve, reject) => {
              controls.set(ctx.jobId, { resolve, reject, progress: (p) => ctx.progress(p) });
            }),
        });
        const ttlMs = 100;
        const backend = new MemoryBackend();
        const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), concurrency, ttlMs, sweepIntervalMs: 1_000, backend });

        const submitted: string[] = [];
        const removedExplicitly = new Set<string>();
        const removedAny = new Set<string>();
        const history = new Map<string, JobEvent[]>();
        const live = new Map<string, number[]>();
        const liveDone: Promise<void>[] = [];
        tracker.on('job:removed', (e) => removedAny.add(e.jobId));
        for (const type of ['queued', 'started', 'progress', 'completed', 'failed', 'cancelled'] as const) {
          tracker.on(`job:${type}`, (event) => {
            const list = history.get(event.jobId) ?? [];
            list.push(event);
            history.set(event.jobId, list);
          });
        }

        for (const op of ops) {
          const target = submitted.length > 0 && 'pick' in op ? submitted[op.pick % submitted.length]! : undefined;
          const before = target === undefined ? undefined : await tracker.get(target);
          switch (op.kind) {
            case 'submit': {
              const job = await tracker.submit(plugin, {}, { priority: op.priority, ...(op.timeoutMs ? { timeoutMs: op.timeoutMs } : {}) });
              expect(job.status).toBe('queued');
              submitted.push(job.id);
              const seqs: number[] = [];
              live.set(job.id, seqs);
              liveDone.push(
                (async () => {
                  for await (const event of tracker.events(job.id)) seqs.push(event.seq);
                })(),
              );
              break;
            }
            case 'cancel':
              if (target !== undefined && before) {
                const after = await tracker.cancel(target);
                expect(after.status).toBe(isTerminalStatus(before.status) ? before.status : 'cancelled');
              }
              break;
            case 'complete':
            case 'fail':
            case 'progress': {
              const control = target === undefined ? undefined : controls.get(target);
              if (control && before) {
                if (op.kind === 'complete') control.resolve('done');
                else if (op.kind === 'fail') control.reject(new Error('failed on purpose'));
                else control.progress(50);
                await flush();
                const after = await tracker.get(target!);
                const expected: JobStatus = before.status !== 'running' ? before.status : op.kind === 'complete' ? 'completed' : op.kind === 'fail' ? 'failed' : 'running';
                expect(after?.status).toBe(expected);
              }
              break;
            }
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
          for (const id of submitted) {
            const job = await tracker.get(id);
            if (job) continue;
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
          }
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
  });
});
