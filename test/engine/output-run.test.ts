import { describe, expect, it, onTestFinished } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, MemoryBackend, MemoryResultStorage, type JobEvent, type JobTrackerOptions } from '../../src/index.js';
import type { BackendHost, JobBackend, OutputAppend } from '../../src/backend/index.js';
import { deferred, until } from '../helpers/deferred.js';

/**
 * The memory backend, with every append its store is given kept for the test to read; `hold()`
 * makes appends wait (a store that does not answer) until `release()`.
 */
function countingBackend(): { backend: JobBackend; appends: OutputAppend[]; hold: () => void; release: () => void } {
  const appends: OutputAppend[] = [];
  const memory = new MemoryBackend();
  let held: ReturnType<typeof deferred<void>> | undefined;
  const backend: JobBackend = {
    open(host: BackendHost) {
      const drivers = memory.open(host);
      const { store } = drivers;
      const append = store.append.bind(store);
      store.append = async (batch) => {
        appends.push(batch);
        await held?.promise;
        return append(batch);
      };
      return drivers;
    },
  };
  return { backend, appends, hold: () => void (held = deferred<void>()), release: () => held?.resolve() };
}

/** A tracker with one plugin, closed when the test ends. */
function track(plugin: Parameters<LocalPluginManager['register']>[0], options: Omit<JobTrackerOptions, 'plugins'> = {}): JobTracker {
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), ...options });
  onTestFinished(() => tracker.close());
  return tracker;
}

function describeEvent(event: JobEvent): string {
  if (event.type === 'output') return `output ${JSON.stringify(event.chunk)}`;
  if (event.type === 'gap') return `gap ${event.fromSeq}-${event.toSeq}`;
  return event.type;
}

describe('ctx.write in the engine', () => {
  it('a flood written in one tick is one append, and every chunk keeps its own seq', async () => {
    const flood = definePlugin({
      name: 'flood',
      input: z.object({ n: z.number() }),
      run: (input, ctx) => {
        for (let i = 0; i < input.n; i++) ctx.write(`t${i} `);
        return 'done';
      },
    });
    const { backend, appends } = countingBackend();
    const tracker = track(flood, { backend });
    const job = await tracker.submit('flood', { n: 10_000 });
    await tracker.wait(job.id);
    expect(appends).toHaveLength(1);
    expect(appends[0]?.chunks).toHaveLength(10_000);
    const output = await tracker.output(job.id);
    expect(output.chunks).toHaveLength(10_000);
    expect(output.chunks.join('')).toBe(Array.from({ length: 10_000 }, (_, i) => `t${i} `).join(''));
    expect(output.gap).toBe(false);
    // started is seq 2: the chunks are 3 … 10002, completed is 10003.
    expect(output.lastSeq).toBe(10_002);
    const snapshot = await tracker.get(job.id);
    expect(snapshot?.status).toBe('completed');
  });

  it('output written faster than the store takes it is bounded in the run: its oldest part is dropped there, and the store is told (one gap)', async () => {
    const ticks = deferred<void>();
    const plugin = definePlugin({
      name: 'stalled',
      input: z.object({}),
      run: async (_input, ctx) => {
        ctx.write({ first: true });
        // 200 ticks of 10 chunks of about 100 bytes, while the store answers nothing.
        for (let tick = 0; tick < 200; tick++) {
          for (let i = 0; i < 10; i++) ctx.write({ tick, i, pad: 'p'.repeat(70) });
          await new Promise((resolve) => setImmediate(resolve));
        }
        ticks.resolve();
        return 'done';
      },
    });
    const { backend, appends, hold, release } = countingBackend();
    const tracker = track(plugin, { backend, outputLimitBytes: 2_000 });
    hold();
    const job = await tracker.submit('stalled', {});
    await ticks.promise;
    expect(appends).toHaveLength(1); // the first one, still unanswered
    release();
    await tracker.wait(job.id);
    const second = appends[1]!;
    // What the run held for the store stayed within twice the limit, and it said what it dropped.
    expect(second.chunks.reduce((sum, chunk) => sum + chunk.json.length + 64, 0)).toBeLessThanOrEqual(4_000);
    expect(second.dropped).toBeGreaterThan(0);
    const output = await tracker.output(job.id);
    expect(output.gap).toBe(true);
    const last = output.chunks.at(-1) as { tick: number; i: number };
    expect([last.tick, last.i]).toEqual([199, 9]);
    const replay: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) replay.push(event);
    const gaps = replay.filter((event) => event.type === 'gap');
    expect(gaps).toHaveLength(1);
    // Every seq is a status event, a chunk kept, or inside the gap: 1 + 2000 chunks in all.
    expect(replay.at(-1)?.type).toBe('completed');
    expect(replay.at(-1)?.seq).toBe(2 + 1 + 2_000 + 1);
  });

  it('output written before a progress report or the end is in the log before it', async () => {
    const step = deferred<void>();
    const plugin = definePlugin({
      name: 'mixed',
      input: z.object({}),
      run: async (_input, ctx) => {
        ctx.write('a');
        ctx.progress(50, 'half');
        ctx.write({ segment: 1 });
        await step.promise;
        ctx.write('b');
        return 'done';
      },
    });
    const tracker = track(plugin);
    const job = await tracker.submit('mixed', {});
    const events: JobEvent[] = [];
    const reading = (async () => {
      for await (const event of tracker.events(job.id)) events.push(event);
    })();
    step.resolve();
    await reading;
    expect(events.map(describeEvent)).toEqual(['queued', 'started', 'output "a"', 'progress', 'output {"segment":1}', 'output "b"', 'completed']);
    const seqs = events.map((event) => event.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
  });

  it('a reader that keeps up gets the strings of one tick as one event and JSON chunks one by one; one far behind gets ticks merged too', async () => {
    const go = deferred<void>();
    const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
    const plugin = definePlugin({
      name: 'strings',
      input: z.object({ ticks: z.number() }),
      run: async (input, ctx) => {
        await go.promise;
        ctx.write('a');
        ctx.write('b');
        ctx.write('c');
        await tick();
        ctx.write('d');
        await tick();
        ctx.write('e');
        ctx.write([1]);
        ctx.write([2]);
        await tick();
        ctx.write('stop');
        await tick();
        for (let i = 0; i < input.ticks; i++) {
          ctx.write(`${i},`);
          await tick();
        }
        return 'done';
      },
    });
    const tracker = track(plugin);
    const job = await tracker.submit('strings', { ticks: 2_000 });
    const live: JobEvent[] = [];
    const iterator = tracker.events(job.id);
    const reading = (async () => {
      for await (const event of iterator) {
        live.push(event);
        // Stop reading here: what is written next piles up unread.
        if (event.type === 'output' && event.chunk === 'stop') break;
      }
    })();
    go.resolve();
    await reading;
    const outputs = live.filter((event) => event.type === 'output');
    expect(outputs.map((event) => (event.type === 'output' ? event.chunk : ''))).toEqual(['abc', 'd', 'e', [1], [2], 'stop']);
    // The merged event carries the seq of its last chunk: resuming after it repeats nothing.
    expect(outputs.map((event) => event.seq)).toEqual([5, 6, 7, 8, 9, 10]);
    await tracker.wait(job.id);
    const replay: JobEvent[] = [];
    for await (const event of tracker.events(job.id, { afterSeq: 10 })) replay.push(event);
    const rest = replay.filter((event) => event.type === 'output');
    expect(rest.length).toBeLessThan(2_000);
    expect(rest.map((event) => (event.type === 'output' ? event.chunk : '')).join('')).toBe(Array.from({ length: 2_000 }, (_, i) => `${i},`).join(''));
    expect(replay.at(-1)?.type).toBe('completed');
  });

  it('a write after run() settled is ignored, even while the end is still being recorded', async () => {
    const lateWrite = deferred<void>();
    const saving = deferred<void>();
    const plugin = definePlugin({
      name: 'late',
      input: z.object({}),
      run: (_input, ctx) => {
        ctx.write('before');
        setImmediate(() => {
          ctx.write('after');
          lateWrite.resolve();
        });
        return 'done';
      },
    });
    const storage = new MemoryResultStorage();
    const save = storage.save.bind(storage);
    // The result's save waits until the late write was made: the job has not ended yet then.
    storage.save = async (record) => {
      await saving.promise;
      return save(record);
    };
    const tracker = track(plugin, { storage });
    const job = await tracker.submit('late', {});
    await lateWrite.promise;
    expect((await tracker.get(job.id))?.status).toBe('running');
    saving.resolve();
    await tracker.wait(job.id);
    expect((await tracker.output(job.id)).chunks).toEqual(['before']);
    expect((await storage.get(job.id))?.output).toEqual({ text: 'before' });
  });

  it('a progress report between two writes of one tick stays between them', async () => {
    const plugin = definePlugin({
      name: 'interleaved',
      input: z.object({}),
      run: (_input, ctx) => {
        // JSON values, not strings: a replay would merge adjacent strings.
        ctx.write(['before']);
        ctx.progress(10);
        ctx.write(['after']);
        ctx.write(['more']);
        ctx.progress(20);
        ctx.progress(30); // coalesced with the one before: nothing was written between them
        ctx.write(['last']);
        return 'done';
      },
    });
    const tracker = track(plugin);
    const job = await tracker.submit('interleaved', {});
    await tracker.wait(job.id);
    const events: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) events.push(event);
    const shown = events.map((event) => (event.type === 'progress' ? `progress ${event.job.progress}` : describeEvent(event)));
    expect(shown.filter((text) => text.startsWith('output') || text.startsWith('progress'))).toEqual(['output ["before"]', 'progress 10', 'output ["after"]', 'output ["more"]', 'progress 30', 'output ["last"]']);
  });

  it('a reader that does not read holds at most outputLimitBytes of unread output, then a gap, then the newest output', async () => {
    const go = deferred<void>();
    const plugin = definePlugin({
      name: 'chatty',
      input: z.object({}),
      run: async (_input, ctx) => {
        await go.promise;
        // Twenty ticks of 100-byte chunks: 2 000 bytes in all, against a limit of 1 000 for the store and for the reader.
        for (let tick = 0; tick < 20; tick++) {
          ctx.write({ tick, pad: 'x'.repeat(80) });
          await new Promise((resolve) => setImmediate(resolve));
        }
        return 'done';
      },
    });
    const tracker = track(plugin, { outputLimitBytes: 1_000 });
    const job = await tracker.submit('chatty', {});
    const iterator = tracker.events(job.id);
    // Read up to `started`, then stop reading while the plugin writes everything.
    const first = await iterator.next();
    expect(first.value?.type).toBe('queued');
    const second = await iterator.next();
    expect(second.value?.type).toBe('started');
    go.resolve();
    await tracker.wait(job.id);
    const rest: JobEvent[] = [];
    for await (const event of iterator) rest.push(event);
    const gaps = rest.filter((event) => event.type === 'gap');
    expect(gaps).toHaveLength(1);
    const gap = gaps[0] as Extract<JobEvent, { type: 'gap' }>;
    expect(gap.fromSeq).toBe(3);
    const outputs = rest.filter((event) => event.type === 'output');
    const ticks = outputs.map((event) => (event.type === 'output' ? (event.chunk as { tick: number }).tick : -1));
    // What is left is the newest output, in order, right after the gap, and the terminal event last.
    expect(ticks.length).toBeGreaterThan(0);
    expect(ticks.length).toBeLessThan(20);
    expect(ticks).toEqual(Array.from({ length: ticks.length }, (_, i) => 20 - ticks.length + i));
    expect(gap.toSeq).toBe((outputs[0]?.seq ?? 0) - 1);
    expect(rest.at(-1)?.type).toBe('completed');
  });

  it('resuming inside the dropped range gets a gap from the seq after the one it has', async () => {
    const plugin = definePlugin({
      name: 'long',
      input: z.object({}),
      run: async (_input, ctx) => {
        for (let tick = 0; tick < 10; tick++) {
          ctx.write({ i: tick, pad: 'y'.repeat(88) }); // 104 bytes of JSON, 168 with the chunk cost: a limit of 700 keeps four (objects: never merged for a reader that lags)
          await new Promise((resolve) => setImmediate(resolve));
        }
        return 'done';
      },
    });
    const tracker = track(plugin, { outputLimitBytes: 700 });
    const job = await tracker.submit('long', {});
    await tracker.wait(job.id);
    const output = await tracker.output(job.id);
    expect(output.gap).toBe(true);
    expect(output.chunks).toHaveLength(4);
    const replay: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) replay.push(event);
    expect(replay.map(describeEvent).map((text) => text.slice(0, 14))).toEqual(['queued', 'started', 'gap 3-8', 'output {"i":6,', 'output {"i":7,', 'output {"i":8,', 'output {"i":9,', 'completed']);
    const resumed: JobEvent[] = [];
    for await (const event of tracker.events(job.id, { afterSeq: 5 })) resumed.push(event);
    expect(describeEvent(resumed[0] as JobEvent)).toBe('gap 6-8');
    expect(resumed[0]?.seq).toBe(8);
    const after: JobEvent[] = [];
    for await (const event of tracker.events(job.id, { afterSeq: 8 })) after.push(event);
    expect(after.map((event) => event.type)).toEqual(['output', 'output', 'output', 'output', 'completed']);
  });

  it('a failed try keeps its output and the retry adds its own after the retrying event', async () => {
    const plugin = definePlugin({
      name: 'again',
      input: z.object({}),
      retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 1 } },
      run: (_input, ctx) => {
        ctx.write(`try ${ctx.attempt}`);
        if (ctx.attempt === 1) throw new Error('first try fails');
        return 'done';
      },
    });
    const tracker = track(plugin);
    const job = await tracker.submit('again', {});
    await tracker.wait(job.id);
    const events: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) events.push(event);
    expect(events.map(describeEvent)).toEqual(['queued', 'started', 'output "try 1"', 'retrying', 'started', 'output "try 2"', 'completed']);
    expect((await tracker.output(job.id)).chunks).toEqual(['try 1', 'try 2']);
  });

  it('a replay from the start gets the whole dropped range as one gap, even with a progress report inside it', async () => {
    const plugin = definePlugin({
      name: 'reporting',
      input: z.object({}),
      run: async (_input, ctx) => {
        for (let tick = 0; tick < 10; tick++) {
          ctx.write({ i: tick, pad: 'y'.repeat(88) }); // 104 bytes of JSON, 168 with the chunk cost: a limit of 700 keeps four
          if (tick === 2) ctx.progress(30);
          await new Promise((resolve) => setImmediate(resolve));
        }
        return 'done';
      },
    });
    const tracker = track(plugin, { outputLimitBytes: 700 });
    const job = await tracker.submit('reporting', {});
    await tracker.wait(job.id);
    const replay: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) replay.push(event);
    // Chunks 3, 4, 5 (ticks 0-2), progress 6, chunks 7 … 9 dropped; 10 … 13 kept.
    expect(replay.map(describeEvent).map((text) => text.slice(0, 14))).toEqual(['queued', 'started', 'progress', 'gap 3-9', 'output {"i":6,', 'output {"i":7,', 'output {"i":8,', 'output {"i":9,', 'completed']);
  });

  it('one batch alone past the limit keeps its newest chunks that fit, and drops every older one', async () => {
    const go = deferred<void>();
    const plugin = definePlugin({
      name: 'burst',
      input: z.object({}),
      run: async (_input, ctx) => {
        ctx.write('first');
        await go.promise;
        for (let i = 0; i < 10; i++) ctx.write({ i, pad: 'z'.repeat(88) }); // one tick: one batch of 10 × 104 bytes
        return 'done';
      },
    });
    const tracker = track(plugin, { outputLimitBytes: 700 });
    const job = await tracker.submit('burst', {});
    await until(async () => (await tracker.output(job.id)).chunks.length === 1);
    go.resolve();
    await tracker.wait(job.id);
    const output = await tracker.output(job.id);
    expect(output.gap).toBe(true);
    expect(output.chunks.map((chunk) => (chunk as { i: number }).i)).toEqual([6, 7, 8, 9]);
    const replay: JobEvent[] = [];
    for await (const event of tracker.events(job.id)) replay.push(event);
    // 'first' is seq 3; the burst is 4 … 13, of which 4 … 9 are dropped.
    expect(replay.map(describeEvent).slice(0, 3)).toEqual(['queued', 'started', 'gap 3-9']);
  });
});
