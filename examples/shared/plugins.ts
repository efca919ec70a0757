/**
 * The sample plugins every example wires: one that reports progress in steps and honours
 * cancellation, one that runs a child process and kills it on cancel — the shape of real
 * transcription or ffmpeg work — one that fails on its first tries and is retried, as a call to
 * a flaky service is, and two that stream their output as they go (`ctx.write`): a fake
 * transcriber writing timed segments, and a fake LLM writing tokens.
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

/** One segment of a transcript, as a speech-to-text model emits it: times in seconds. */
export interface Segment {
  start: number;
  end: number;
  text: string;
}

/** What the fake transcriber "hears", one segment per sentence, over and over. */
const SPEECH = [
  'Welcome back to the show.',
  'Today we talk about jobs that take a while.',
  'A transcription does not finish all at once:',
  'it hears one sentence, then the next.',
  'So the page can show each one as it comes,',
  'and a reload shows what was said so far.',
  'Nothing is lost when the connection drops;',
  'the stream picks up after the last event it saw.',
];

export const transcribe = definePlugin({
  name: 'transcribe',
  title: 'Transcribe (fake, streams segments)',
  category: 'demo',
  description: 'A fake transcriber: writes one timed segment `{ start, end, text }` at a time with `ctx.write`, as a speech-to-text model does. Reload the page while it runs: the text so far comes back, then the rest follows live.',
  input: z.object({
    segments: z.number().int().min(1).max(500).default(12).meta({ title: 'Segments', description: 'How many sentences the transcript has.' }),
    segmentMs: z.number().int().min(10).max(10_000).default(400).meta({ title: 'Pause per segment (ms)', description: 'How long each sentence takes to "hear", in milliseconds.' }),
  }),
  output: z.object({ segments: z.number(), seconds: z.number() }),
  async run(input, ctx) {
    let at = 0;
    for (let index = 0; index < input.segments; index++) {
      await sleep(input.segmentMs, undefined, { signal: ctx.signal });
      const text = SPEECH[index % SPEECH.length] as string;
      const seconds = Math.round(text.split(' ').length * 3.5) / 10; // about 0.35 s a word
      const segment: Segment = { start: at, end: Math.round((at + seconds) * 10) / 10, text };
      ctx.write(segment); // a JSON value: readers get it as written, in order, exactly once
      at = segment.end;
      ctx.progress(((index + 1) / input.segments) * 100, `segment ${index + 1}/${input.segments}`);
    }
    return { segments: input.segments, seconds: at };
  },
});

/** What the fake LLM answers, word by word. */
const ANSWER =
  'Live output lets a job show its work as it goes. Each token is written with ctx.write and reaches every reader in order, exactly once, ' +
  'or a gap event says what was dropped.\nA reader that reconnects resumes after the last event it saw, so nothing repeats and nothing is missed.';

export const tokens = definePlugin({
  name: 'tokens',
  title: 'Token streamer (fake LLM)',
  category: 'demo',
  description: 'Streams an answer word by word, as an LLM does: each token is a string written with `ctx.write`, and the page appends it to the text.',
  input: z.object({
    tokens: z.number().int().min(1).max(100_000).default(80).meta({ title: 'Tokens', description: 'How many tokens the answer has.' }),
    tokenMs: z.number().int().min(0).max(5_000).default(50).meta({ title: 'Pause per token (ms)', description: 'How long each token takes, in milliseconds (0: as fast as it can).' }),
  }),
  output: z.object({ tokens: z.number(), characters: z.number() }),
  async run(input, ctx) {
    // Words with the space before them, as tokenizers cut text: the tokens concatenate to the
    // answer, which starts a new paragraph each time it comes round again.
    const words = `\n\n${ANSWER}`.match(/\s*\S+/g) ?? [];
    let characters = 0;
    for (let index = 0; index < input.tokens; index++) {
      if (input.tokenMs > 0) await sleep(input.tokenMs, undefined, { signal: ctx.signal });
      else if (index % 1_000 === 0) await sleep(0, undefined, { signal: ctx.signal }); // let a cancel in
      const word = words[index % words.length] as string;
      const token = index === 0 ? word.trimStart() : word;
      ctx.write(token);
      characters += token.length;
      if ((index + 1) % 20 === 0 || index + 1 === input.tokens) ctx.progress(((index + 1) / input.tokens) * 100, `${index + 1} tokens`);
    }
    return { tokens: input.tokens, characters };
  },
});
