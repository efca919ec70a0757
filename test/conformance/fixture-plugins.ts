import { z } from 'zod';
import { definePlugin, LocalPluginManager } from '../../src/index.js';
import { deferred, type Deferred } from '../helpers/deferred.js';

/**
 * Plugins the backend conformance suite drives. `gate` blocks until the test opens it (by key) or
 * the job is aborted; `stubborn` ignores its signal; `trace` records concurrency.
 */
export function createFixturePlugins() {
  const gates = new Map<string, Deferred<unknown>>();
  const gate = (key: string): Deferred<unknown> => {
    let entry = gates.get(key);
    if (!entry) gates.set(key, (entry = deferred<unknown>()));
    return entry;
  };
  const started: string[] = [];
  const aborted = new Map<string, unknown>();
  let running = 0;
  let maxRunning = 0;
  const seenJobs: { jobId: string; tenantId?: string | undefined; workspaceId?: string | undefined; metadata: unknown }[] = [];

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

  const blocking = definePlugin({
    name: 'gate',
    input: z.object({ key: z.string(), tag: z.string().optional() }),
    async run(input, ctx) {
      started.push(input.tag ?? input.key);
      running++;
      maxRunning = Math.max(maxRunning, running);
      try {
        const opened = gate(input.key).promise;
        const abortedPromise = new Promise((_, reject) => {
          if (ctx.signal.aborted) reject(ctx.signal.reason);
          ctx.signal.addEventListener('abort', () => {
            aborted.set(input.key, ctx.signal.reason);
            reject(ctx.signal.reason);
          });
        });
        return { opened: await Promise.race([opened, abortedPromise]) };
      } finally {
        running--;
      }
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
    input: z.object({ kind: z.enum(['error', 'string', 'object', 'undefined']) }),
    run(input) {
      if (input.kind === 'error') throw new Error('kaboom');
      if (input.kind === 'string') throw 'plain string';
      if (input.kind === 'object') throw { reason: 'object thrown' };
      throw undefined;
    },
  });

  const plugins = new LocalPluginManager().register(echo).register(steps).register(blocking).register(stubborn).register(boom);
  return {
    plugins,
    open: (key: string, value: unknown = key) => gate(key).resolve(value),
    started,
    aborted,
    seenJobs,
    get maxRunning() {
      return maxRunning;
    },
  };
}

export type FixturePlugins = ReturnType<typeof createFixturePlugins>;
