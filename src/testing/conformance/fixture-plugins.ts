import { z } from 'zod';
import { definePlugin } from '../../plugin-manager/define-plugin.js';
import type { PluginContext } from '../../plugin-manager/types.js';
import { LocalPluginManager } from '../../plugin-manager/local-plugin-manager.js';
import { NonRetryableError } from '../../retry/non-retryable-error.js';
import { keyedDeferreds } from './wait.js';

/** A value nested `depth` levels deep (`{ a: { a: … } }`), built without recursion. */
export function nested(depth: number): unknown {
  let value: unknown = {};
  for (let i = 1; i < depth; i++) value = { a: value };
  return value;
}

/** A tree as deep as its input: the shape a recursive schema accepts. */
type Tree = { children?: Tree[] | undefined };
const tree: z.ZodType<Tree> = z.lazy(() => z.object({ children: z.array(tree).optional() }));

/** A value of `depth` levels for the recursive schema of the `recursive` plugin. */
export function deepTree(depth: number): Tree {
  let value: Tree = {};
  for (let i = 1; i < depth; i++) value = { children: [value] };
  return value;
}

/**
 * Values the `samples` plugin writes: strings with line breaks, NUL, lone surrogates and astral
 * characters, and JSON values of every kind.
 */
export const OUTPUT_SAMPLES: readonly unknown[] = Object.freeze([
  'plain text',
  '',
  'CR\rLF\nCRLF\r\nend',
  'NUL\u0000inside\u0000',
  'lone high \ud800 and lone low \udc00, reversed \udc00\ud800',
  'astral 🎙️ ✓ é',
  'data: not a frame\n\nid: 7\nevent: x\n',
  '  spaces  ',
  { start: 1.25, end: 3.5, text: 'Hello' },
  [1, 'two', null, { three: [3] }],
  { nested: { deeper: { text: 'CR\r NUL\u0000 \ud800' } }, list: [] },
  0,
  -1.5,
  1e21,
  null,
  true,
  false,
  {},
  [],
]);

/** Chunk `i` (from 1) of the `chunks` plugin: `{ i }` (with `p`, `pad` characters, when padded), or the text `c<i>;` padded with dots. */
export function outputChunk(kind: 'object' | 'string', i: number, pad = 0): unknown {
  if (kind === 'string') return `c${i}${'.'.repeat(pad)};`;
  return pad > 0 ? { i, p: 'x'.repeat(pad) } : { i };
}

/**
 * The plugins the backend conformance suite drives, and what the suite observes of them:
 * - `echo` returns its text; `steps` reports progress `count` times; `boom` throws anything;
 * - `gate` blocks until the test opens it (by key) or the job is aborted, recording starts,
 *   aborts and how many run at once; `solo` is the same with its own `concurrency: 1`;
 * - `stubborn` ignores its signal; `burst` reports progress many times in one go;
 * - `poison` returns a value JSON cannot carry; `unreadable` throws something whose message cannot
 *   be read; `ticker` reports a bad progress value from a timer; `anything` takes any input and
 *   `recursive` a recursive schema;
 * - `flaky` fails its first `failures` tries (reading `ctx.attempt`) by throwing `try N failed`, or
 *   with `hang`, by waiting until its signal aborts (a timeout); later tries return `{ attempt }`.
 *   `patient` is the same with the plugin defaults `retry: { attempts: 3, backoff: fixed 50 ms }`.
 *   Both record the `ctx.attempt` of every try by key (`tries`);
 * - `fatal` throws a `NonRetryableError`, recording its tries the same way;
 * - output (`ctx.write`): `chunks` writes `count` chunks ({@link outputChunk}), yielding a timer
 *   turn every `yieldEvery` chunks and reporting progress `after i` after chunk i for each i of
 *   `progressAt`; `samples` writes each of {@link OUTPUT_SAMPLES} followed by its index (so no two
 *   strings are adjacent); `drip` writes `before`, waits for its gate (`key`) or its signal, then
 *   writes `after`; `flaky-writer` writes two chunks `{ attempt, i }` per try and fails its first
 *   `failures` tries; `late` writes `before`, returns, and writes `after` from a timer once the job
 *   ended (recorded in `lateWrites` when made); `bad-write` writes `ok`, then a value a job cannot
 *   carry, and waits for its signal. Every `ctx.write` that throws is recorded in `writeThrew`.
 */
export function createFixturePlugins() {
  const gate = keyedDeferreds<unknown>();
  const started: string[] = [];
  const aborted = new Map<string, unknown>();
  const running = new Map<string, number>();
  const maxRunning = new Map<string, number>();
  const seenJobs: { jobId: string; tenantId?: string | undefined; workspaceId?: string | undefined; metadata: unknown }[] = [];

  const gated = (name: string, concurrency?: number) =>
    definePlugin({
      name,
      ...(concurrency === undefined ? {} : { concurrency }),
      input: z.object({ key: z.string(), tag: z.string().optional() }),
      async run(input, ctx) {
        started.push(input.tag ?? input.key);
        running.set(name, (running.get(name) ?? 0) + 1);
        maxRunning.set(name, Math.max(maxRunning.get(name) ?? 0, running.get(name) ?? 0));
        try {
          const opened = gate(input.key).promise;
          const abortedPromise = new Promise((_, reject) => {
            if (ctx.signal.aborted) {
              aborted.set(input.key, ctx.signal.reason);
              reject(ctx.signal.reason);
            }
            ctx.signal.addEventListener('abort', () => {
              aborted.set(input.key, ctx.signal.reason);
              reject(ctx.signal.reason);
            });
          });
          return { opened: await Promise.race([opened, abortedPromise]) };
        } finally {
          running.set(name, (running.get(name) ?? 1) - 1);
        }
      },
    });

  const echo = definePlugin({
    name: 'echo',
    title: 'Echo',
    version: '1.2.3',
    category: 'test',
    input: z.object({ text: z.string() }),
    output: z.object({ echo: z.string() }),
    run(input, ctx) {
      seenJobs.push({ jobId: ctx.jobId, ...ctx.job });
      return { echo: input.text };
    },
  });

  const steps = definePlugin({
    name: 'steps',
    input: z.object({ count: z.number().int().min(1).max(50), delayMs: z.number().int().min(0).default(2) }),
    async run(input, ctx) {
      for (let i = 1; i <= input.count; i++) {
        await new Promise((resolve) => setTimeout(resolve, input.delayMs));
        if (ctx.signal.aborted) throw ctx.signal.reason;
        ctx.progress((i / input.count) * 100, `step ${i}`);
      }
      return { steps: input.count };
    },
  });

  const stubborn = definePlugin({
    name: 'stubborn',
    input: z.object({ key: z.string() }),
    async run(input, ctx) {
      ctx.signal.addEventListener('abort', () => aborted.set(input.key, ctx.signal.reason));
      return { late: await gate(input.key).promise };
    },
  });

  const boom = definePlugin({
    name: 'boom',
    input: z.object({ kind: z.enum(['error', 'string', 'object', 'undefined', 'huge']) }),
    run(input) {
      if (input.kind === 'error') throw new Error('kaboom');
      if (input.kind === 'string') throw 'plain string';
      if (input.kind === 'object') throw { reason: 'object thrown' };
      if (input.kind === 'huge') throw new Error('x'.repeat(5_000_000));
      throw undefined;
    },
  });

  const burst = definePlugin({
    name: 'burst',
    input: z.object({ count: z.number().int().min(1) }),
    async run(input, ctx) {
      for (let i = 1; i <= input.count; i++) ctx.progress((i / input.count) * 100, `report ${i}`);
      await new Promise((resolve) => setTimeout(resolve, 1));
      return { reports: input.count };
    },
  });

  const poison = definePlugin({
    name: 'poison',
    input: z.object({ kind: z.enum(['bigint', 'cycle', 'getter', 'deep', 'huge']) }),
    run(input): unknown {
      if (input.kind === 'bigint') return { big: 10n };
      if (input.kind === 'cycle') {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        return cycle;
      }
      if (input.kind === 'getter') {
        return Object.defineProperty({}, 'boom', {
          enumerable: true,
          get() {
            throw new Error('getter threw');
          },
        });
      }
      if (input.kind === 'deep') return nested(5_000);
      return { text: 'x'.repeat(20_000_000) };
    },
  });

  const unreadable = definePlugin({
    name: 'unreadable',
    input: z.object({ kind: z.enum(['revoked', 'message-getter']) }),
    run(input) {
      if (input.kind === 'revoked') {
        const { proxy, revoke } = Proxy.revocable({}, {});
        revoke();
        throw proxy;
      }
      const error = new Error('hidden');
      Object.defineProperty(error, 'message', {
        get() {
          throw new Error('message getter threw');
        },
      });
      throw error;
    },
  });

  const ticker = definePlugin({
    name: 'ticker',
    input: z.object({ value: z.enum(['nan', 'string']) }),
    run(input, ctx) {
      // From a timer, as plugins often report: a throw here would be an uncaught exception.
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => ctx.progress(input.value === 'nan' ? Number.NaN : ('half' as never)), 1);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(timer);
          reject(ctx.signal.reason);
        });
        setTimeout(() => resolve('should not complete'), 60_000).unref();
      });
    },
  });

  const tries = new Map<string, number[]>();
  const recordTry = (key: string, attempt: number): void => {
    const seen = tries.get(key) ?? [];
    seen.push(attempt);
    tries.set(key, seen);
  };
  const flakyInput = z.object({ key: z.string(), failures: z.number().int().min(0), hang: z.boolean().optional() });
  const flakyRun = async (input: z.output<typeof flakyInput>, ctx: PluginContext): Promise<{ attempt: number }> => {
    recordTry(input.key, ctx.attempt);
    if (ctx.attempt > input.failures) return { attempt: ctx.attempt };
    if (!input.hang) throw new Error(`try ${ctx.attempt} failed`);
    return new Promise((_, reject) => {
      if (ctx.signal.aborted) reject(ctx.signal.reason);
      ctx.signal.addEventListener('abort', () => {
        aborted.set(input.key, ctx.signal.reason);
        reject(ctx.signal.reason);
      });
    });
  };
  const flaky = definePlugin({ name: 'flaky', input: flakyInput, run: flakyRun });
  const patient = definePlugin({ name: 'patient', input: flakyInput, retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 50 } }, run: flakyRun });
  const fatal = definePlugin({
    name: 'fatal',
    input: z.object({ key: z.string() }),
    run(input, ctx) {
      recordTry(input.key, ctx.attempt);
      throw new NonRetryableError(`no point trying ${input.key} again`);
    },
  });

  /** `ctx.write` that records a throw (it must never throw). */
  const write = (ctx: PluginContext, chunk: unknown): void => {
    try {
      ctx.write(chunk);
    } catch (error) {
      writeThrew.push(error);
    }
  };
  const writeThrew: unknown[] = [];
  const lateWrites = new Set<string>();
  /** Until the signal aborts (recording why, by key), rejecting with its reason. */
  const untilAborted = (ctx: PluginContext, key: string): Promise<never> =>
    new Promise((_, reject) => {
      const stop = (): void => {
        aborted.set(key, ctx.signal.reason);
        reject(ctx.signal.reason);
      };
      if (ctx.signal.aborted) stop();
      else ctx.signal.addEventListener('abort', stop, { once: true });
    });

  const chunks = definePlugin({
    name: 'chunks',
    input: z.object({
      count: z.number().int().min(1).max(100_000),
      kind: z.enum(['object', 'string']).default('object'),
      pad: z.number().int().min(0).default(0),
      yieldEvery: z.number().int().min(0).default(0),
      progressAt: z.array(z.number().int()).default([]),
    }),
    async run(input, ctx) {
      for (let i = 1; i <= input.count; i++) {
        write(ctx, outputChunk(input.kind, i, input.pad));
        if (input.progressAt.includes(i)) ctx.progress((i / input.count) * 100, `after ${i}`);
        if (input.yieldEvery > 0 && i % input.yieldEvery === 0) await new Promise((resolve) => setTimeout(resolve, 1));
      }
      return { written: input.count };
    },
  });

  const samples = definePlugin({
    name: 'samples',
    input: z.object({}),
    async run(_input, ctx) {
      OUTPUT_SAMPLES.forEach((sample, i) => {
        write(ctx, sample);
        write(ctx, i);
      });
      return { written: OUTPUT_SAMPLES.length * 2 };
    },
  });

  const drip = definePlugin({
    name: 'drip',
    input: z.object({ key: z.string(), before: z.array(z.string()), after: z.array(z.string()).default([]) }),
    async run(input, ctx) {
      for (const chunk of input.before) write(ctx, chunk);
      await Promise.race([gate(input.key).promise, untilAborted(ctx, input.key)]);
      for (const chunk of input.after) write(ctx, chunk);
      return { written: input.before.length + input.after.length };
    },
  });

  const flakyWriter = definePlugin({
    name: 'flaky-writer',
    input: z.object({ key: z.string(), failures: z.number().int().min(0) }),
    run(input, ctx) {
      recordTry(input.key, ctx.attempt);
      write(ctx, { attempt: ctx.attempt, i: 1 });
      write(ctx, { attempt: ctx.attempt, i: 2 });
      if (ctx.attempt <= input.failures) throw new Error(`try ${ctx.attempt} failed`);
      return { attempt: ctx.attempt };
    },
  });

  const late = definePlugin({
    name: 'late',
    input: z.object({ key: z.string() }),
    run(input, ctx) {
      write(ctx, 'before');
      setTimeout(() => {
        write(ctx, 'after');
        ctx.progress(50, 'after the end');
        lateWrites.add(input.key);
      }, 10);
      return 'returned';
    },
  });

  const badWrite = definePlugin({
    name: 'bad-write',
    input: z.object({ kind: z.enum(['undefined', 'cycle', 'bigint', 'function', 'deep']) }),
    run(input, ctx) {
      write(ctx, 'ok');
      let bad: unknown;
      if (input.kind === 'cycle') {
        const cycle: Record<string, unknown> = {};
        cycle.self = cycle;
        bad = cycle;
      } else if (input.kind === 'bigint') {
        bad = { big: 10n };
      } else if (input.kind === 'function') {
        bad = () => 'a function';
      } else if (input.kind === 'deep') {
        bad = nested(5_000);
      }
      // From a timer, as plugins often write: a throw here would be an uncaught exception.
      setTimeout(() => write(ctx, bad), 1);
      return untilAborted(ctx, `bad-${input.kind}`);
    },
  });

  const anything = definePlugin({ name: 'anything', input: z.any(), run: () => 'ok' });
  const recursive = definePlugin({ name: 'recursive', input: tree, run: () => 'ok' });

  const plugins = new LocalPluginManager()
    .register(echo)
    .register(steps)
    .register(gated('gate'))
    .register(gated('solo', 1))
    .register(stubborn)
    .register(boom)
    .register(burst)
    .register(poison)
    .register(unreadable)
    .register(ticker)
    .register(anything)
    .register(recursive)
    .register(flaky)
    .register(patient)
    .register(fatal)
    .register(chunks)
    .register(samples)
    .register(drip)
    .register(flakyWriter)
    .register(late)
    .register(badWrite);
  return {
    plugins,
    /** Let the `gate`/`solo`/`drip` jobs of `key` return `value`. */
    open: (key: string, value: unknown = key) => gate(key).resolve(value),
    /** Keys (or tags) of gated jobs, in the order they started. */
    started,
    /** Keys of gated, stubborn and drip jobs (`bad-<kind>` for bad-write) whose signal aborted, with the reason. */
    aborted,
    seenJobs,
    /** The `ctx.attempt` of every try of the `flaky`, `patient` and `fatal` jobs of `key`, in order. */
    tries: (key: string): number[] => tries.get(key) ?? [],
    /** Every error a `ctx.write` threw (it never should). */
    writeThrew,
    /** Keys of `late` jobs whose write after the end was made. */
    lateWrites,
    /** Most `gate`/`solo` jobs (by plugin name) seen running at once. */
    maxRunning: (plugin: 'gate' | 'solo') => maxRunning.get(plugin) ?? 0,
  };
}

/** What {@link createFixturePlugins} returns. */
export type FixturePlugins = ReturnType<typeof createFixturePlugins>;
