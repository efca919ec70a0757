import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError } from '../../src/index.js';
import { runPlugin } from '../../src/testing/index.js';
import { ISOLATION_PLUGINS, isolationPlugins } from '../helpers/isolation.js';

const wordCount = definePlugin({
  name: 'word-count',
  input: z.object({ text: z.string().min(1) }),
  config: z.object({ lowercase: z.boolean().default(true) }),
  output: z.object({ words: z.number(), first: z.string() }),
  async run(input, ctx) {
    ctx.progress(10, 'splitting');
    const words = input.text.split(/\s+/);
    ctx.log(`${words.length} words`);
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.progress(150);
    const first = words[0] ?? '';
    return { words: words.length, first: ctx.config.lowercase ? first.toLowerCase() : first };
  },
});

describe('runPlugin', () => {
  it('runs a plugin with a real context and returns its result, progress and logs', async () => {
    const run = await runPlugin(wordCount, { text: 'Hello big world' });
    expect(run).toEqual({ result: { words: 3, first: 'hello' }, progress: [{ percent: 10, message: 'splitting' }, { percent: 100 }], logs: ['3 words'] });
    expect((await runPlugin(wordCount, { text: 'Hello' }, { config: { lowercase: false } })).result.first).toBe('Hello');
  });

  it('checks input and config as a tracker would', async () => {
    await expect(runPlugin(wordCount, { text: '' })).rejects.toSatisfy((e) => isJobwireError(e) && e.code === 'INVALID_INPUT');
    await expect(runPlugin(wordCount, { text: 'x' }, { config: { lowercase: 'yes' as never } })).rejects.toSatisfy((e) => isJobwireError(e) && e.code === 'INVALID_CONFIG');
  });

  it('a progress value that is not a number fails the run with PLUGIN_FAILED and aborts the plugin, as a tracker does', async () => {
    let seen: unknown;
    const sloppy = definePlugin({
      name: 'sloppy',
      input: z.object({}),
      run: (_input, ctx) =>
        new Promise((_resolve, reject) => {
          // From a timer: a throw here would be an uncaught exception.
          setTimeout(() => ctx.progress(Number.NaN), 1);
          ctx.signal.addEventListener('abort', () => {
            seen = ctx.signal.reason;
            reject(new Error('stopped'));
          });
        }),
    });
    await expect(runPlugin(sloppy, {})).rejects.toMatchObject({ code: 'PLUGIN_FAILED', message: 'ctx.progress expects a number from 0 to 100, got NaN' });
    expect(isJobwireError(seen) && seen.code).toBe('PLUGIN_FAILED');
  });

  it('passes the signal through', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(runPlugin(wordCount, { text: 'x' }, { signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('runPlugin across an isolation boundary', () => {
  it('runs inline by default, and in a worker thread or process when asked', async () => {
    const { identity } = await isolationPlugins();
    const inline = await runPlugin(identity!, { note: 'n' }, { module: ISOLATION_PLUGINS });
    expect(inline.result).toMatchObject({ pid: process.pid, threadId: 0 });
    const threaded = await runPlugin(identity!, { note: 'n' }, { isolation: 'thread', module: ISOLATION_PLUGINS, config: { greeting: 'yo' } });
    expect(threaded.result).toMatchObject({ pid: process.pid, config: { greeting: 'yo' } });
    expect((threaded.result as { threadId: number }).threadId).toBeGreaterThan(0);
    expect(threaded.progress).toEqual([{ percent: 10, message: 'starting' }, { percent: 90 }]);
    expect(threaded.logs).toEqual(['note n']);
    const forked = await runPlugin(identity!, { note: 'n' }, { isolation: 'process', module: ISOLATION_PLUGINS });
    expect((forked.result as { pid: number }).pid).not.toBe(process.pid);
  });
});
