/**
 * The sample plugins every example wires: one that reports progress in steps and honours
 * cancellation, one that runs a child process and kills it on cancel — the shape of real
 * transcription or ffmpeg work — and one that fails on its first tries and is retried, as a call to
 * a flaky service is.
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

export const flaky = definePlugin({
  name: 'flaky',
  title: 'Flaky service (retried)',
  category: 'demo',
  description: 'Fails on its first tries, as a call to a flaky service does; each job gets 3 tries, 3 s apart. Set `Failures` to 3 or more to see it fail for good, or give a chance to fail at random.',
  input: z.object({
    failures: z.number().int().min(0).max(10).default(1).meta({ title: 'Failures', description: 'How many tries fail before one succeeds.' }),
    failPercent: z.number().int().min(0).max(100).default(0).meta({ title: 'Random failures (%)', description: 'The chance that a try which would succeed fails anyway.' }),
    stepMs: z.number().int().min(10).max(10_000).default(300).meta({ title: 'Pause per step (ms)', description: 'Each try calls the "service" in 3 steps of this long.' }),
  }),
  output: z.object({ attempt: z.number() }),
  retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 3_000 } },
  async run(input, ctx) {
    for (let step = 1; step <= 3; step++) {
      await sleep(input.stepMs, undefined, { signal: ctx.signal });
      ctx.progress((step / 3) * 90, `try ${ctx.attempt}: step ${step}/3`);
    }
    // A plain Error fails this try; the job is retried while it has tries left (throw a
    // NonRetryableError instead for a failure another try cannot fix).
    if (ctx.attempt <= input.failures) throw new Error(`the service did not answer (try ${ctx.attempt})`);
    if (Math.random() * 100 < input.failPercent) throw new Error(`the service failed at random (try ${ctx.attempt})`);
    return { attempt: ctx.attempt };
  },
});
