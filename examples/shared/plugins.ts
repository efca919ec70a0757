/**
 * The two sample plugins every example wires: one that reports progress in steps and honours
 * cancellation, and one that runs a child process and kills it on cancel — the shape of real
 * transcription or ffmpeg work.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin } from 'jobwire';

export const steps = definePlugin({
  name: 'steps',
  title: 'Count in steps',
  category: 'demo',
  description: 'Reports progress step by step; stops at once when cancelled.',
  input: z.object({
    steps: z.number().int().min(1).max(100).default(10).meta({ title: 'Steps', description: 'How many progress updates the job reports.' }),
    stepMs: z.number().int().min(10).max(10_000).default(300).meta({ title: 'Pause per step (ms)', description: 'How long each step takes, in milliseconds.' }),
    label: z.string().max(200).default('step').meta({ title: 'Label', description: 'The word in each progress message, as in `step 3/10`.' }),
  }),
  output: z.object({ steps: z.number(), label: z.string() }),
  async run(input, ctx) {
    for (let step = 1; step <= input.steps; step++) {
      await sleep(input.stepMs, undefined, { signal: ctx.signal }); // rejects at once on cancel
      ctx.progress((step / input.steps) * 100, `${input.label} ${step}/${input.steps}`);
    }
    return { steps: input.steps, label: input.label };
  },
});

export const childProcess = definePlugin({
  name: 'child-process',
  title: 'Child process (sleep)',
  category: 'demo',
  description: 'Runs `sleep` in a child process and reports elapsed time; cancel kills the process.',
  input: z.object({
    seconds: z.number().min(0.1).max(120).default(3).meta({ title: 'Duration (s)', description: 'How long `sleep` runs, in seconds.' }),
  }),
  output: z.object({ exitCode: z.number(), pid: z.number() }),
  async run(input, ctx) {
    // `signal` makes node kill the child (SIGTERM) when the job is cancelled or times out.
    const child = spawn('sleep', [String(input.seconds)], { signal: ctx.signal, stdio: 'ignore' });
    const pid = child.pid ?? -1;
    const started = Date.now();
    ctx.progress(0, `pid ${pid}`);
    const ticker = setInterval(() => ctx.progress(Math.min(99, ((Date.now() - started) / (input.seconds * 1000)) * 100), `pid ${pid}`), 200);
    try {
      const exitCode = await new Promise<number>((resolve, reject) => {
        child.once('error', reject); // AbortError on cancel, ENOENT if `sleep` is missing
        child.once('exit', (code, signal) => (code === null ? reject(new Error(`sleep ended by ${signal}`)) : resolve(code)));
      });
      return { exitCode, pid };
    } finally {
      clearInterval(ticker);
    }
  },
});
