import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, type PluginOutput } from '../../src/index.js';
import { runPlugin } from '../../src/testing/index.js';

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

  it('is unknown for a plugin whose run() returns unknown', () => {
    const opaque = definePlugin({ name: 'opaque', input: z.object({}), run: (): unknown => JSON.parse('{}') });
    expectTypeOf(runPlugin(opaque, {})).resolves.toHaveProperty('result').toEqualTypeOf<unknown>();
  });
});
