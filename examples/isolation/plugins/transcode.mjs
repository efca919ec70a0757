// A child program (here `sleep`, standing in for ffmpeg or whisper.cpp) in a process of its own.
// It does not even listen to its signal: on cancel, after cancelGraceMs, the whole process group
// is killed, the program included.
import { spawn } from 'node:child_process';
import { z } from 'zod';
import { definePlugin } from 'jobwire';

export default definePlugin({
  name: 'transcode',
  title: 'Transcode (child process)',
  category: 'demo',
  description: 'Runs `sleep` as a stand-in for ffmpeg, in its own process group.',
  isolation: 'process',
  cancelGraceMs: 1_000,
  resourceLimits: { maxOldGenerationSizeMb: 128 },
  input: z.object({ seconds: z.number().min(0.1).max(600).default(5) }),
  output: z.object({ exitCode: z.number() }),
  async run(input, ctx) {
    const program = spawn('sleep', [String(input.seconds)], { stdio: 'ignore' });
    ctx.progress(0, `pid ${program.pid}`);
    const started = Date.now();
    const ticker = setInterval(() => ctx.progress(Math.min(99, ((Date.now() - started) / (input.seconds * 1000)) * 100), `pid ${program.pid}`), 250);
    try {
      const exitCode = await new Promise((resolve, reject) => {
        program.once('error', reject);
        program.once('exit', (code) => resolve(code ?? -1));
      });
      return { exitCode };
    } finally {
      clearInterval(ticker);
    }
  },
});
