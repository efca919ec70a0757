import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type IsolationMode, type LoadDirectoryResult, type PluginConfigInput, type PluginInput, type PluginOutput } from '../../src/index.js';
import { runPlugin } from '../../src/testing/index.js';

describe('plugin types flow from the zod schemas', () => {
  it('types run(input, ctx) from input and config', () => {
    definePlugin({
      name: 'transcribe',
      input: z.object({ audio: z.string(), speakers: z.number().optional() }),
      config: z.object({ model: z.string().default('tiny') }),
      output: z.object({ text: z.string() }),
      run(input, ctx) {
        expectTypeOf(input).toEqualTypeOf<{ audio: string; speakers?: number | undefined }>();
        expectTypeOf(ctx.config).toEqualTypeOf<{ model: string }>();
        expectTypeOf(ctx.signal).toEqualTypeOf<AbortSignal>();
        expectTypeOf(ctx.job.metadata).toEqualTypeOf<Record<string, unknown>>();
        return { text: input.audio };
      },
    });
  });

  it('without a config schema ctx.config is an empty object', () => {
    definePlugin({
      name: 'noconfig',
      input: z.object({ n: z.number() }),
      run(input, ctx) {
        expectTypeOf(ctx.config).toEqualTypeOf<Record<string, never>>();
        return input.n;
      },
    });
  });

  it('refuses a run() whose result breaks the output schema', () => {
    definePlugin({
      name: 'bad',
      input: z.object({}),
      output: z.object({ text: z.string() }),
      // @ts-expect-error — the output schema wants { text: string }
      run: () => ({ text: 1 }),
    });
  });

  it('exposes input, output and config types, and types submit, register and runPlugin', () => {
    const plugin = definePlugin({
      name: 'p',
      input: z.object({ n: z.number().default(1) }),
      config: z.object({ factor: z.number() }),
      output: z.object({ value: z.number() }),
      run: (input, ctx) => ({ value: input.n * ctx.config.factor }),
    });
    expectTypeOf<PluginInput<typeof plugin>>().toEqualTypeOf<{ n?: number | undefined }>();
    expectTypeOf<PluginOutput<typeof plugin>>().toEqualTypeOf<{ value: number }>();
    expectTypeOf<PluginConfigInput<typeof plugin>>().toEqualTypeOf<{ factor: number }>();

    const plugins = new LocalPluginManager().register(plugin, { factor: 2 });
    // @ts-expect-error — config must match the schema
    plugins.register(plugin, { factor: 'x' });
    const tracker = new JobTracker({ plugins });
    void tracker.submit(plugin, { n: 3 });
    // @ts-expect-error — input must match the schema
    void tracker.submit(plugin, { n: 'three' });
    void tracker.submit('p', { anything: true });

    expectTypeOf(runPlugin(plugin, {}, { config: { factor: 1 } })).resolves.toHaveProperty('result').toEqualTypeOf<{ value: number }>();
  });

  it('types the isolation settings', () => {
    const isolated = definePlugin({
      name: 'iso',
      isolation: 'thread',
      module: new URL('file:///plugins/iso.js'),
      cancelGraceMs: 500,
      resourceLimits: { maxOldGenerationSizeMb: 64 },
      input: z.object({}),
      run: () => null,
    });
    expectTypeOf(isolated.isolation).toEqualTypeOf<IsolationMode | undefined>();
    // @ts-expect-error — not a mode
    definePlugin({ name: 'bad', isolation: 'fiber', input: z.object({}), run: () => null });
    const plugins = new LocalPluginManager().register(isolated, undefined, { isolation: 'process', module: '/plugins/iso.js' });
    // @ts-expect-error — not a mode
    plugins.register(isolated, undefined, { isolation: 'cluster' });
    expectTypeOf(plugins.loadDirectory('/plugins')).resolves.toEqualTypeOf<LoadDirectoryResult>();
  });
});
