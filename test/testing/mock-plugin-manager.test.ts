import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { JobTracker, type ExecuteContext } from '../../src/index.js';
import { MockPluginManager } from '../../src/testing/index.js';
import { testPluginManager } from '../../src/testing/index.js';

await testPluginManager('MockPluginManager', {
  make: () =>
    new MockPluginManager({
      echo: { input: z.object({ text: z.string() }), meta: { category: 'text' }, progress: [50], result: (input: unknown) => ({ echo: (input as { text: string }).text }) },
      fail: { error: new Error('broken') },
      off: { enabled: false },
      wait: { delayMs: 3_600_000 },
    }),
});

describe('MockPluginManager with a tracker', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plays scripted progress over the delay, then the result, and records the call', async () => {
    const plugins = new MockPluginManager({ transcribe: { delayMs: 300, progress: [[10, 'loading'], 60, [90, 'almost']], result: { text: 'hello' } } });
    const tracker = new JobTracker({ plugins });
    const job = await tracker.submit('transcribe', { audio: 'a.wav' }, { tenantId: 't' });
    const seen: [number, string | undefined][] = [];
    tracker.on('job:progress', (e) => seen.push([e.job.progress, e.job.message]));
    await vi.advanceTimersByTimeAsync(100);
    expect(seen).toEqual([[10, 'loading']]);
    await vi.advanceTimersByTimeAsync(200);
    expect(seen).toEqual([
      [10, 'loading'],
      [60, 'loading'],
      [90, 'almost'],
    ]);
    expect(await tracker.get(job.id)).toMatchObject({ status: 'completed', result: { text: 'hello' } });
    expect(plugins.calls).toEqual([{ name: 'transcribe', input: { audio: 'a.wav' }, jobId: job.id, attempt: 1, job: { tenantId: 't', workspaceId: undefined, metadata: {} }, aborted: false }]);
    expect(plugins.callsFor('other')).toEqual([]);
  });

  it('scripted failures (anything thrown) and aborts during the delay', async () => {
    const plugins = new MockPluginManager({ bad: { error: 'nope', delayMs: 10 }, slow: { delayMs: 1_000 } });
    const tracker = new JobTracker({ plugins });
    const bad = await tracker.submit('bad', {});
    const slow = await tracker.submit('slow', {});
    await vi.advanceTimersByTimeAsync(10);
    expect((await tracker.get(bad.id))?.error).toEqual({ code: 'PLUGIN_FAILED', message: 'nope' });
    await tracker.cancel(slow.id);
    await vi.advanceTimersByTimeAsync(0);
    expect(plugins.callsFor('slow')[0]?.aborted).toBe(true);
  });
});

describe('MockPluginManager scripted output', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes scripted chunks over the delay, interleaved with progress by time (a chunk first on a tie)', async () => {
    const plugins = new MockPluginManager({ transcribe: { delayMs: 400, output: ['Hel', 'lo', { done: true }, ' world'], progress: [[50, 'half'], 100], result: 'ok' } });
    const tracker = new JobTracker({ plugins });
    const seen: string[] = [];
    tracker.on('job:output', (e) => seen.push(`write ${JSON.stringify(e.chunk)}`));
    tracker.on('job:progress', (e) => seen.push(`progress ${e.job.progress}`));
    /**
     * Advance the clock, then one more millisecond: the tracker appends output a tick after it is
     * written, and a fake `setImmediate` set while timers run is due 1 ms later.
     */
    const advance = async (ms: number): Promise<void> => {
      await vi.advanceTimersByTimeAsync(ms);
      await vi.advanceTimersByTimeAsync(1);
    };
    const job = await tracker.submit('transcribe', {});
    await advance(100);
    expect(seen).toEqual(['write "Hel"']);
    await advance(100);
    expect(seen).toEqual(['write "Hel"', 'write "lo"', 'progress 50']);
    await advance(200);
    expect(seen).toEqual(['write "Hel"', 'write "lo"', 'progress 50', 'write {"done":true}', 'write " world"', 'progress 100']);
    expect(await tracker.get(job.id)).toMatchObject({ status: 'completed', result: 'ok' });
    expect(await tracker.output(job.id)).toMatchObject({ chunks: ['Hel', 'lo', { done: true }, ' world'], gap: false });
    await tracker.close();
  });

  it('without a delay the chunks are written at once, in order; a result function can write too', async () => {
    const plugins = new MockPluginManager({
      quick: { output: ['a', 'b'] },
      computed: {
        result: (input: unknown, ctx: ExecuteContext) => {
          for (const word of (input as { words: string[] }).words) ctx.write(word);
          return 'written';
        },
      },
      bad: { output: ['fine', undefined] },
    });
    const tracker = new JobTracker({ plugins });
    const quick = await tracker.submit('quick', {});
    const computed = await tracker.submit('computed', { words: ['x', 'y', 'z'] });
    const bad = await tracker.submit('bad', {});
    await vi.advanceTimersByTimeAsync(0);
    expect(await tracker.output(quick.id)).toMatchObject({ chunks: ['a', 'b'] });
    expect(await tracker.get(computed.id)).toMatchObject({ status: 'completed', result: 'written' });
    expect((await tracker.output(computed.id)).chunks).toEqual(['x', 'y', 'z']);
    // A scripted chunk a tracker cannot carry fails the job, as a real plugin's would.
    expect(await tracker.get(bad.id)).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED' } });
    expect((await tracker.output(bad.id)).chunks).toEqual(['fine']);
    await tracker.close();
  });

  it('an abort during the delay stops the script: chunks due later are not written', async () => {
    const plugins = new MockPluginManager({ slow: { delayMs: 300, output: ['one', 'two', 'three'] } });
    const tracker = new JobTracker({ plugins });
    const job = await tracker.submit('slow', {});
    await vi.advanceTimersByTimeAsync(150);
    await tracker.cancel(job.id);
    await vi.advanceTimersByTimeAsync(300);
    expect((await tracker.output(job.id)).chunks).toEqual(['one']);
    expect(plugins.callsFor('slow')[0]?.aborted).toBe(true);
    await tracker.close();
  });
});
