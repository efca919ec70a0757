import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, type PluginOutput } from '../../src/index.js';
import { runPlugin, type ProgressRecord, type RunPluginResult } from '../../src/testing/index.js';

describe("runPlugin's result type", () => {
  it('comes from what run() returns when the plugin has no output schema', () => {
    const count = definePlugin({ name: 'count', input: z.object({ words: z.array(z.string()) }), run: (input) => ({ count: input.words.length }) });
    expectTypeOf(runPlugin(count, { words: [] })).resolves.toHaveProperty('result').toEqualTypeOf<{ count: number }>();
    expectTypeOf<PluginOutput<typeof count>>().toEqualTypeOf<{ count: number }>();

    const later = definePlugin({
      name: 'later',
      input: z.object({}),
      async run() {
        return 'done' as const;
      },
    });
    expectTypeOf(runPlugin(later, {})).resolves.toHaveProperty('result').toEqualTypeOf<'done'>();
  });

  it('comes from the output schema when there is one (its parsed side)', () => {
    const parsed = definePlugin({
      name: 'parsed',
      input: z.object({}),
      output: z.object({ at: z.string().transform((text) => new Date(text)) }),
      run: () => ({ at: '2026-01-01T00:00:00Z' }),
    });
    expectTypeOf(runPlugin(parsed, {})).resolves.toHaveProperty('result').toEqualTypeOf<{ at: Date }>();
    expectTypeOf<PluginOutput<typeof parsed>>().toEqualTypeOf<{ at: Date }>();
  });

  it('carries the output as unknown[] (any JSON value or string a plugin wrote), whatever the result', () => {
    const writer = definePlugin({
      name: 'writer',
      input: z.object({}),
      run: (_input, ctx) => {
        expectTypeOf(ctx.write).toEqualTypeOf<(chunk: unknown) => void>();
        ctx.write('token');
        ctx.write({ start: 0, text: 'segment' });
        return 1;
      },
    });
    expectTypeOf(runPlugin(writer, {})).resolves.toHaveProperty('output').toEqualTypeOf<unknown[]>();
    expectTypeOf(runPlugin(writer, {})).resolves.toHaveProperty('result').toEqualTypeOf<number>();
    expectTypeOf<RunPluginResult<string>>().toEqualTypeOf<{ result: string; progress: ProgressRecord[]; logs: string[]; output: unknown[] }>();
  });

  it('is unknown for a plugin whose run() returns unknown', () => {
    const opaque = definePlugin({ name: 'opaque', input: z.object({}), run: (): unknown => JSON.parse('{}') });
    expectTypeOf(runPlugin(opaque, {})).resolves.toHaveProperty('result').toEqualTypeOf<unknown>();
  });
});
