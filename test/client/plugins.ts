import { z } from 'zod';
import { definePlugin } from '../../src/index.js';

/** A plugin with an `output` schema and an input default. */
export const transcribe = definePlugin({
  name: 'transcribe',
  input: z.object({ audio: z.string(), language: z.string().default('en') }),
  output: z.object({ text: z.string() }),
  run: (input) => ({ text: `(transcript of ${input.audio} in ${input.language})` }),
});

/** A plugin without an `output` schema: its result is what `run` returns. */
export const count = definePlugin({
  name: 'count',
  input: z.object({ to: z.number().int().min(1).max(1_000) }),
  async run(input, ctx) {
    for (let n = 1; n <= input.to; n++) ctx.write({ n });
    return { counted: input.to, at: new Date(0).toISOString() };
  },
});

/** What the server exports for its clients. */
export type AppPlugins = { transcribe: typeof transcribe; count: typeof count };

/** A plugin whose input and result hold what JSON turns into something else (dates, functions, undefined…). */
export const stamp = definePlugin({
  name: 'stamp',
  input: z.object({ when: z.coerce.date(), note: z.string().optional() }),
  run: (input) => ({
    at: new Date(),
    when: input.when,
    note: input.note,
    list: [new Date(), undefined, () => 1] as const,
    dates: [input.when],
    format: () => 'never sent',
  }),
});

/** The plugins of a server with `stamp`. */
export type StampPlugins = { stamp: typeof stamp; transcribe: typeof transcribe };
