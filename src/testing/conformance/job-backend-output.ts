import { isJobwireError } from '../../errors.js';
import { chunkCost } from '../../output/output-events.js';
import { isStatusEvent, type JobEvent, type JobGapEvent, type JobOutputEvent, type JobStatusEvent } from '../../job.js';
import { MemoryResultStorage } from '../../storage/memory-result-storage.js';
import { OUTPUT_SAMPLES, outputChunk } from './fixture-plugins.js';
import type { RetryHarness } from './job-backend-retries.js';
import type { VitestApi } from './vitest-api.js';
import { collect, rejection, until } from './wait.js';

/** What the output cases need of the suite that registers them. */
export type OutputHarness = Pick<RetryHarness, 'setup' | 'fx'>;

const code = (error: unknown): string | undefined => (isJobwireError(error) ? error.code : undefined);
const outputs = (events: readonly JobEvent[]): JobOutputEvent[] => events.filter((e): e is JobOutputEvent => e.type === 'output');
const gaps = (events: readonly JobEvent[]): JobGapEvent[] => events.filter((e): e is JobGapEvent => e.type === 'gap');
const statuses = (events: readonly JobEvent[]): JobStatusEvent[] => events.filter(isStatusEvent);
const chunksOf = (events: readonly JobEvent[]): unknown[] => outputs(events).map((e) => e.chunk);
/** The chunks `1 … count` of the `chunks` plugin. */
const written = (count: number, kind: 'object' | 'string' = 'object', pad = 0): unknown[] => Array.from({ length: count }, (_, i) => outputChunk(kind, i + 1, pad));
/** What the chunks count against `outputLimitBytes`: their JSON's UTF-8 bytes and `CHUNK_COST` each. */
const bytesOf = (chunks: readonly unknown[]): number => chunks.reduce<number>((sum, chunk) => sum + chunkCost(JSON.stringify(chunk)), 0);
/** Backoff of the retry case: short, fixed. */
const FIXED_50 = { type: 'fixed', delayMs: 50 } as const;

/**
 * Output (`ctx.write`): what every backend honours through the tracker API — every chunk in the
 * job's one log, in order, exactly once, with seqs shared with the status events; any string and
 * JSON value round-trips; `afterSeq` resumes output too; past `outputLimitBytes` the oldest output
 * gives way to one `gap`; output outlives a failed try, a cancel, and is saved with the result.
 * Real time, waits for states.
 */
export function outputCases({ describe, it, expect }: VitestApi, h: OutputHarness): void {
  /** Seqs strictly increase; a gap's seq is its `toSeq`; an output event carries no snapshot. */
  function expectWellFormed(events: readonly JobEvent[], jobId: string): void {
    const seqs = events.map((e) => e.seq);
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `seq after ${seqs[i - 1]}`).toBeGreaterThan(seqs[i - 1]!);
    for (const event of events) {
      expect(event.jobId).toBe(jobId);
      expect(Number.isNaN(Date.parse(event.at))).toBe(false);
      if (event.type === 'output' || event.type === 'gap') expect('job' in event, `${event.type} ${event.seq} carries a snapshot`).toBe(false);
      if (event.type === 'gap') expect(event.seq).toBe(event.toSeq);
    }
  }

  describe('output (ctx.write)', () => {
    it('every chunk reaches events() in order, exactly once, with seqs shared with status events; afterSeq resumes mid-output', async () => {
      const t = await h.setup();
      const count = 300;
      const job = await t.submit('chunks', { count, yieldEvery: 25, progressAt: [100, 200] });
      const live: JobEvent[] = [];
      // A second reader opened mid-output, as a client reconnecting with Last-Event-ID.
      let resumed: { after: number; events: Promise<JobEvent[]> } | undefined;
      for await (const event of t.events(job.id)) {
        live.push(event);
        if (event.type === 'output' && (event.chunk as { i: number }).i === 120) resumed = { after: event.seq, events: collect(t.events(job.id, { afterSeq: event.seq })) };
      }
      const replay = await collect(t.events(job.id));
      for (const events of [live, replay]) {
        expectWellFormed(events, job.id);
        expect(gaps(events)).toEqual([]);
        const types = statuses(events).map((e) => e.type);
        expect(types.slice(0, 2)).toEqual(['queued', 'started']);
        expect(events.at(-1)?.type).toBe('completed');
        // Objects are never merged: each chunk is its own event.
        expect(chunksOf(events)).toEqual(written(count));
        const started = events.find((e) => e.type === 'started')!.seq;
        for (const event of outputs(events)) expect(event.seq).toBeGreaterThan(started);
        // A report follows the output written before it.
        for (const report of statuses(events).filter((e) => e.type === 'progress')) {
          const after = Number(/^after (\d+)$/.exec(report.job.message ?? '')?.[1]);
          const chunk = outputs(events).find((e) => (e.chunk as { i: number }).i === after)!;
          expect(report.seq).toBeGreaterThan(chunk.seq);
        }
      }
      const kept = await t.output(job.id);
      expect(kept).toEqual({ chunks: written(count), gap: false, lastSeq: outputs(replay).at(-1)!.seq });

      // Resumed: nothing repeated, nothing skipped, live or replayed.
      expect(resumed).toBeDefined();
      expect(chunksOf(await resumed!.events)).toEqual(written(count).slice(120));
      const out = outputs(replay);
      for (const after of [resumed!.after, replay[1]!.seq, out[0]!.seq, out[149]!.seq, out[count - 2]!.seq, out.at(-1)!.seq]) {
        expect(await collect(t.events(job.id, { afterSeq: after }))).toEqual(replay.filter((e) => e.seq > after));
      }
      expect(h.fx().writeThrew).toEqual([]);
    });

    it('a flood of string chunks written in one go arrives whole; job:output listeners get each chunk as written', async () => {
      const t = await h.setup();
      const count = 5_000;
      const heard: JobOutputEvent[] = [];
      t.on('job:output', (event) => heard.push(event));
      const job = await t.submit('chunks', { count, kind: 'string' });
      const live = await collect(t.events(job.id));
      expectWellFormed(live, job.id);
      const expected = written(count, 'string') as string[];
      // A reader that lags may get adjacent strings merged into one event: the text is the same.
      expect(outputs(live).every((e) => typeof e.chunk === 'string')).toBe(true);
      expect(chunksOf(live).join('')).toBe(expected.join(''));
      expect((await t.output(job.id)).chunks).toEqual(expected);
      await until(() => heard.length >= count, 10_000, 'every chunk to reach the listener');
      expect(heard.map((e) => e.chunk)).toEqual(expected);
      expect(heard.every((e) => e.jobId === job.id && e.type === 'output' && !('job' in e))).toBe(true);
      const seqs = heard.map((e) => e.seq);
      expect(seqs).toEqual(seqs.map((_, i) => seqs[0]! + i));
    });

    it('strings with CR, LF, NUL and lone surrogates, and JSON values of every kind, round-trip', async () => {
      const t = await h.setup();
      const job = await t.submit('samples', {});
      expect((await t.wait(job.id)).status).toBe('completed');
      // Each sample is followed by a number, so no two strings are adjacent (none may be merged).
      const expected = OUTPUT_SAMPLES.flatMap((sample, i) => [sample, i]);
      expect((await t.output(job.id)).chunks).toEqual(expected);
      const events = await collect(t.events(job.id));
      expect(chunksOf(events)).toEqual(expected);
      for (const [i, chunk] of chunksOf(events).entries()) expect(typeof chunk, `chunk ${i}`).toBe(typeof expected[i]);
    });

    it('past outputLimitBytes the newest output is kept; a replay gets one gap covering what was dropped, and every status event', async () => {
      const storage = new MemoryResultStorage();
      const limit = 2_048;
      const t = await h.setup({ outputLimitBytes: limit, storage });
      const count = 120;
      const pad = 40; // about 55 bytes a chunk: three times the limit in all
      const job = await t.submit('chunks', { count, pad, yieldEvery: 1, progressAt: [30, 90] });
      expect((await t.wait(job.id)).status).toBe('completed');
      const all = written(count, 'object', pad);

      const kept = await t.output(job.id);
      expect(kept.gap).toBe(true);
      expect(kept.chunks.length).toBeGreaterThan(0);
      expect(kept.chunks).toEqual(all.slice(count - kept.chunks.length));
      expect(bytesOf(kept.chunks)).toBeLessThanOrEqual(limit);

      const replay = await collect(t.events(job.id));
      expectWellFormed(replay, job.id);
      const [gap, ...more] = gaps(replay);
      expect(more).toEqual([]);
      expect(gap).toBeDefined();
      const types = statuses(replay).map((e) => e.type);
      expect(types.slice(0, 2)).toEqual(['queued', 'started']);
      expect(types.slice(2, -1).every((type) => type === 'progress')).toBe(true);
      expect(types.length).toBeGreaterThanOrEqual(4);
      expect(replay.at(-1)?.type).toBe('completed');
      expect(chunksOf(replay)).toEqual(kept.chunks);
      expect(kept.lastSeq).toBe(outputs(replay).at(-1)!.seq);

      // The first chunk was written first thing after started, and went first.
      const started = replay.find((e) => e.type === 'started')!.seq;
      expect(gap!.fromSeq).toBe(started + 1);
      expect(gap!.toSeq).toBeLessThan(outputs(replay)[0]!.seq);
      // Every seq is accounted for: a status event, a retained chunk, or output inside the gap.
      const status = new Set(statuses(replay).map((e) => e.seq));
      const retained = new Set(outputs(replay).map((e) => e.seq));
      let dropped = 0;
      for (let seq = 1; seq <= replay.at(-1)!.seq; seq++) {
        const inGap = seq >= gap!.fromSeq && seq <= gap!.toSeq;
        expect(status.has(seq) || retained.has(seq) || inGap, `seq ${seq}`).toBe(true);
        expect(retained.has(seq) && inGap, `seq ${seq} is both kept and dropped`).toBe(false);
        if (inGap && !status.has(seq)) dropped++;
      }
      // Every dropped chunk's seq is in the gap; so may be one of the two progress reports, when it
      // was dropped from the replay for the newer one (progress coalesces) because the output between them went.
      const extra = dropped + kept.chunks.length - count;
      expect(extra).toBeGreaterThanOrEqual(0);
      expect(extra).toBeLessThanOrEqual(1);

      // Resuming inside the dropped range: the gap from there on; from its end: no gap.
      const mid = gap!.fromSeq + 5;
      expect(mid).toBeLessThan(gap!.toSeq);
      const resumed = await collect(t.events(job.id, { afterSeq: mid }));
      expect(gaps(resumed)).toEqual([expect.objectContaining({ type: 'gap', seq: gap!.toSeq, fromSeq: mid + 1, toSeq: gap!.toSeq })]);
      // (Progress reports may coalesce differently from one reader to another: compare the rest.)
      const lasting = (e: JobEvent): boolean => e.type !== 'gap' && e.type !== 'progress';
      expect(resumed.filter(lasting)).toEqual(replay.filter((e) => e.seq > mid && lasting(e)));
      expect(await collect(t.events(job.id, { afterSeq: gap!.toSeq }))).toEqual(replay.filter((e) => e.seq > gap!.toSeq));

      expect((await storage.get(job.id))?.output).toEqual({ chunks: kept.chunks, gap: true });
    });

    it('a reader that lags past outputLimitBytes is told what it missed with gaps, never silence', async () => {
      const limit = 2_048;
      const t = await h.setup({ outputLimitBytes: limit });
      const count = 120;
      const job = await t.submit('chunks', { count, pad: 40, yieldEvery: 1 });
      const reader = t.events(job.id);
      const first = await reader.next();
      expect(first.value?.type).toBe('queued');
      await t.wait(job.id); // the reader reads nothing meanwhile
      const rest = await collect(reader);
      const events = [first.value as JobEvent, ...rest];
      expectWellFormed(events, job.id);
      expect(events.at(-1)?.type).toBe('completed');
      const delivered = outputs(events);
      const numbers = delivered.map((e) => (e.chunk as { i: number }).i);
      expect(numbers).toEqual([...numbers].sort((a, b) => a - b));
      expect(numbers.at(-1)).toBe(count);
      expect(bytesOf(delivered.map((e) => e.chunk))).toBeLessThanOrEqual(2 * limit);
      const ranges = gaps(events);
      expect(ranges.length).toBeGreaterThan(0);
      const status = new Set(statuses(events).map((e) => e.seq));
      let missed = 0;
      for (const [i, range] of ranges.entries()) {
        if (i > 0) expect(range.fromSeq).toBeGreaterThan(ranges[i - 1]!.toSeq);
        for (const event of delivered) expect(event.seq >= range.fromSeq && event.seq <= range.toSeq, `chunk at ${event.seq} inside a gap`).toBe(false);
        for (let seq = range.fromSeq; seq <= range.toSeq; seq++) if (!status.has(seq)) missed++;
      }
      expect(missed + delivered.length).toBe(count);
    });

    it("a failed try's output stays; the retry adds its own after the retrying event", async () => {
      const t = await h.setup();
      const job = await t.submit('flaky-writer', { key: 'ow', failures: 1 }, { attempts: 2, backoff: FIXED_50 });
      expect(await t.wait(job.id, { timeoutMs: 10_000 })).toMatchObject({ status: 'completed', attempt: 2 });
      const chunks = [
        { attempt: 1, i: 1 },
        { attempt: 1, i: 2 },
        { attempt: 2, i: 1 },
        { attempt: 2, i: 2 },
      ];
      expect(await t.output(job.id)).toMatchObject({ chunks, gap: false });
      const events = await collect(t.events(job.id));
      expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'output', 'output', 'retrying', 'started', 'output', 'output', 'completed']);
      expect(chunksOf(events)).toEqual(chunks);
    });

    it('ctx.write of undefined or of a value JSON cannot carry fails the job with PLUGIN_FAILED and aborts its signal, keeping what came before; a write after the end is ignored', async () => {
      const t = await h.setup();
      const late = await t.submit('late', { key: 'l1' });
      expect(await t.wait(late.id)).toMatchObject({ status: 'completed', result: 'returned', progress: 100 });
      await until(() => h.fx().lateWrites.has('l1'), 10_000, 'the late write');
      for (const kind of ['undefined', 'cycle', 'bigint', 'function', 'deep'] as const) {
        const job = await t.submit('bad-write', { kind });
        const done = await t.wait(job.id, { timeoutMs: 10_000 });
        expect(done, kind).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message: expect.stringMatching(/ctx\.write/) } });
        await until(() => h.fx().aborted.has(`bad-${kind}`), 10_000, `the abort of ${kind} to reach the plugin`);
        expect(code(h.fx().aborted.get(`bad-${kind}`))).toBe('PLUGIN_FAILED');
        expect((await t.output(job.id)).chunks, kind).toEqual(['ok']);
        expect((await collect(t.events(job.id))).at(-1)?.type).toBe('failed');
      }
      expect(h.fx().writeThrew).toEqual([]);
      expect((await t.wait((await t.submit('echo', { text: 'alive' })).id)).status).toBe('completed');
      // The late write, wrongly taken, has had every chance to land: other jobs ran to their end after it.
      expect(await t.output(late.id)).toMatchObject({ chunks: ['before'], gap: false });
      expect((await collect(t.events(late.id))).map((e) => e.type)).toEqual(['queued', 'started', 'output', 'completed']);
      expect(await t.get(late.id)).toMatchObject({ status: 'completed', progress: 100 });
    });

    it("output is delivered live while the job runs; a cancelled job's output stays readable", async () => {
      const t = await h.setup();
      const job = await t.submit('drip', { key: 'dc', before: ['a', 'b', 'c'], after: ['never'] });
      const seen: JobEvent[] = [];
      for await (const event of t.events(job.id)) {
        seen.push(event);
        if (event.type === 'output' && chunksOf(seen).join('') === 'abc') {
          expect((await t.get(job.id))?.status).toBe('running');
          expect((await t.cancel(job.id, 'enough')).status).toBe('cancelled');
        }
      }
      expect(chunksOf(seen).join('')).toBe('abc');
      expect(seen.at(-1)?.type).toBe('cancelled');
      await until(() => h.fx().aborted.has('dc'), 10_000, 'the abort to reach the plugin');
      expect(await t.output(job.id)).toMatchObject({ chunks: ['a', 'b', 'c'], gap: false });
      expect(chunksOf(await collect(t.events(job.id))).join('')).toBe('abc');
    });

    it('tracker.output and the stored result: text when every chunk is a string, else the chunks; nothing written; unknown and removed jobs', async () => {
      const storage = new MemoryResultStorage();
      const t = await h.setup({ storage });
      const text = await t.submit('chunks', { count: 3, kind: 'string' });
      const values = await t.submit('chunks', { count: 2 });
      const silent = await t.submit('echo', { text: 'x' });
      await Promise.all([text, values, silent].map((job) => t.wait(job.id)));
      expect(await t.output(text.id)).toMatchObject({ chunks: ['c1;', 'c2;', 'c3;'], gap: false });
      expect((await storage.get(text.id))?.output).toEqual({ text: 'c1;c2;c3;' });
      expect((await storage.get(values.id))?.output).toEqual({ chunks: [{ i: 1 }, { i: 2 }] });
      expect(await t.output(silent.id)).toEqual({ chunks: [], gap: false, lastSeq: 0 });
      const quiet = await storage.get(silent.id);
      expect(quiet).toBeDefined();
      expect(quiet?.output).toBeUndefined();
      expect(code(await rejection(t.output('unknown-job-id-0000')))).toBe('JOB_NOT_FOUND');
      await t.remove(values.id);
      expect(code(await rejection(t.output(values.id)))).toBe('JOB_NOT_FOUND');
    });
  });
}

