// Plugins that write output (ctx.write), for the isolation and runPlugin tests. Plain JavaScript:
// worker threads and child processes import this file as it is. Every export is found by its name.
import { z } from 'zod';
import { definePlugin } from 'jobwire';

const tick = () => new Promise((resolve) => setImmediate(resolve));

/** Rejects with the signal's reason once it aborts. */
const untilAborted = (signal) =>
  new Promise((_resolve, reject) => {
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });

/** Writes `count` chunks `t<i> ` (every `kind: 'mixed'` tenth one as `{ i }`), a burst of `burst` per tick. */
export const flood = definePlugin({
  name: 'flood',
  input: z.object({ count: z.number().int().min(1), burst: z.number().int().min(1).default(1_000), kind: z.enum(['string', 'mixed']).default('string') }),
  async run(input, ctx) {
    for (let i = 1; i <= input.count; i++) {
      ctx.write(input.kind === 'mixed' && i % 10 === 0 ? { i } : `t${i} `);
      if (i % input.burst === 0) await tick();
    }
    return { count: input.count };
  },
});

/**
 * Writes, reports progress and logs in one order, within a tick and across ticks: the host must see
 * the calls in that order. Chunks are `w<round>` and `{ round }`; progress is `round`, message `p<round>`.
 */
export const interleave = definePlugin({
  name: 'interleave',
  input: z.object({ rounds: z.number().int().min(1).max(100) }),
  async run(input, ctx) {
    for (let round = 1; round <= input.rounds; round++) {
      ctx.write(`w${round}`);
      ctx.progress(round, `p${round}`);
      ctx.write({ round });
      ctx.log(`l${round}`);
      if (round % 3 === 0) await tick();
    }
    ctx.write('last');
    return 'done';
  },
});

/** Writes `ok`, then a chunk that cannot be cloned (function, symbol, throwing getter) or stored (undefined, cycle, BigInt), then waits for its signal. */
export const badChunk = definePlugin({
  name: 'bad-chunk',
  input: z.object({ kind: z.enum(['function', 'symbol', 'getter', 'undefined', 'cycle', 'bigint']), sameTick: z.boolean().default(false) }),
  async run(input, ctx) {
    ctx.write('ok');
    if (!input.sameTick) await tick();
    let bad;
    if (input.kind === 'function') bad = () => 1;
    else if (input.kind === 'symbol') bad = Symbol('s');
    else if (input.kind === 'getter') {
      bad = Object.defineProperty({}, 'boom', {
        enumerable: true,
        get() {
          throw new Error('getter threw');
        },
      });
    } else if (input.kind === 'cycle') {
      bad = {};
      bad.self = bad;
    } else if (input.kind === 'bigint') bad = { big: 10n };
    ctx.write(bad);
    ctx.write('never');
    return untilAborted(ctx.signal);
  },
});

/** Writes `before`, returns, then writes `after` from a timer: ignored, the job has ended. */
export const late = definePlugin({
  name: 'late',
  input: z.object({}),
  run(_input, ctx) {
    ctx.write('before');
    setTimeout(() => ctx.write('after'), 10);
    return 'returned';
  },
});
