import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { JobTracker } from '../../src/index.js';
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
