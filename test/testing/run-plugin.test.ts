import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError, type Plugin } from '../../src/index.js';
import { runPlugin } from '../../src/testing/index.js';
import { ISOLATION_PLUGINS, isolationPlugins } from '../helpers/isolation.js';

/** Plugins that write output, importable by worker threads and processes. */
const OUTPUT_PLUGINS = new URL('../isolation/output-plugins.mjs', import.meta.url);

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
    expect(run).toEqual({ result: { words: 3, first: 'hello' }, progress: [{ percent: 10, message: 'splitting' }, { percent: 100 }], logs: ['3 words'], output: [] });
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

  it('returns every chunk written with ctx.write, in order, as a tracker keeps them', async () => {
    const transcribe = definePlugin({
      name: 'transcribe',
      input: z.object({ segments: z.array(z.string()) }),
      async run(input, ctx) {
        for (const [i, text] of input.segments.entries()) {
          ctx.write(text);
          ctx.write({ i, text, at: new Date(Date.UTC(2030, 0, 1, 0, 0, i)) });
          await new Promise((resolve) => setImmediate(resolve));
        }
        // Written after the run ended: ignored, as a tracker ignores it.
        setTimeout(() => ctx.write('late'), 1);
        return { segments: input.segments.length };
      },
    });
    const run = await runPlugin(transcribe, { segments: ['Hello', ' world', 'NUL\u0000 CR\r LF\n \ud800'] });
    expect(run.result).toEqual({ segments: 3 });
    expect(run.output).toEqual([
      'Hello',
      { i: 0, text: 'Hello', at: '2030-01-01T00:00:00.000Z' },
      ' world',
      { i: 1, text: ' world', at: '2030-01-01T00:00:01.000Z' },
      'NUL\u0000 CR\r LF\n \ud800',
      { i: 2, text: 'NUL\u0000 CR\r LF\n \ud800', at: '2030-01-01T00:00:02.000Z' },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(run.output).toHaveLength(6);
  });

  it('a chunk a tracker would refuse fails the run with PLUGIN_FAILED and aborts the plugin', async () => {
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    let deep: unknown = 'leaf';
    for (let i = 0; i < 100; i++) deep = [deep];
    const cases: [unknown, RegExp][] = [
      [undefined, /^ctx\.write expects a string or a JSON value, got undefined$/],
      [cycle, /ctx\.write cannot be stored as JSON/],
      [{ big: 1n }, /ctx\.write cannot be stored as JSON/],
      [deep, /nested deeper than 64 levels/],
      [() => 'fn', /^ctx\.write expects a string or a JSON value, got undefined$/],
    ];
    for (const [chunk, message] of cases) {
      let seen: unknown;
      let threw = false;
      const writer = definePlugin({
        name: 'writer',
        input: z.object({}),
        run: (_input, ctx) =>
          new Promise((_resolve, reject) => {
            ctx.signal.addEventListener('abort', () => {
              seen = ctx.signal.reason;
              reject(new Error('stopped'));
            });
            try {
              ctx.write('fine');
              ctx.write(chunk);
            } catch {
              threw = true;
            }
          }),
      });
      await expect(runPlugin(writer, {})).rejects.toMatchObject({ code: 'PLUGIN_FAILED', message: expect.stringMatching(message) });
      expect(threw).toBe(false);
      expect(isJobwireError(seen) && seen.code).toBe('PLUGIN_FAILED');
    }
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

  it.each(['thread', 'process'] as const)('returns the output written in a %s, and fails on a chunk that cannot cross', async (isolation) => {
    const { flood, badChunk } = (await import(OUTPUT_PLUGINS.href)) as Record<string, Plugin>;
    const run = await runPlugin(flood!, { count: 2_000, burst: 300, kind: 'mixed' }, { isolation, module: OUTPUT_PLUGINS });
    expect(run.output).toEqual(Array.from({ length: 2_000 }, (_, n) => (n % 10 === 9 ? { i: n + 1 } : `t${n + 1} `)));
    for (const kind of ['function', 'undefined'] as const) {
      await expect(runPlugin(badChunk!, { kind }, { isolation, module: OUTPUT_PLUGINS })).rejects.toMatchObject({ code: 'PLUGIN_FAILED', message: expect.stringMatching(/^ctx\.write /) });
    }
  });
});
