// CPU-bound work in a worker thread: the loop below would stall every SSE stream of the host if it
// ran inline. Plain JavaScript, because worker threads import it as it is.
import { z } from 'zod';
import { definePlugin } from 'jobwire';

export default definePlugin({
  name: 'primes',
  title: 'Count primes (worker thread)',
  category: 'demo',
  description: 'Counts the primes below `below` with a tight loop, in a worker thread.',
  isolation: 'thread',
  // The loop never yields, so it cannot see its signal: a cancel ends it by terminating the thread.
  cancelGraceMs: 500,
  input: z.object({ below: z.number().int().min(2).max(200_000_000).default(20_000_000) }),
  output: z.object({ below: z.number(), primes: z.number() }),
  run(input, ctx) {
    const sieve = new Uint8Array(input.below);
    let primes = 0;
    const every = Math.ceil(input.below / 20);
    for (let n = 2; n < input.below; n++) {
      if (n % every === 0) {
        ctx.progress((n / input.below) * 100, `${primes} primes below ${n}`);
      }
      if (sieve[n]) continue;
      primes++;
      for (let multiple = n * n; multiple < input.below; multiple += n) sieve[multiple] = 1;
    }
    return { below: input.below, primes };
  },
});
