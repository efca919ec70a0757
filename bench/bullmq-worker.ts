/** A worker process for the cross-process benchmarks: runs `wait` jobs and reports when a signal aborts. */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { BullMQBackend } from 'jobwire/bullmq';
import { wallClock } from './lib.js';

const wait = definePlugin({
  name: 'wait',
  input: z.object({ ms: z.number() }),
  async run(input, ctx) {
    const report = (): void => void process.send?.({ type: 'aborted', jobId: ctx.jobId, at: wallClock() });
    if (ctx.signal.aborted) report(); // cancelled before the plugin began
    else ctx.signal.addEventListener('abort', report, { once: true });
    await sleep(input.ms, undefined, { signal: ctx.signal });
    return null;
  },
});
const backend = new BullMQBackend({ connection: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', queueName: process.env.QUEUE_NAME ?? 'bench', prefix: process.env.PREFIX ?? 'jobwire-bench', role: 'worker', concurrency: 4 });
const tracker = new JobTracker({ plugins: new LocalPluginManager().register(wait), backend });
await backend.ready();
process.send?.({ type: 'ready' });
process.on('message', (message: { type?: string }) => {
  if (message.type === 'close') void tracker.close({ timeoutMs: 1_000 }).then(() => process.exit(0));
});
