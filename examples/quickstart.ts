/**
 * jobwire in one file: a plugin that reports progress, three jobs under a concurrency limit,
 * live progress in the terminal, one job cancelled, results read back from storage.
 *
 * Run: npm run quickstart   (or: npx tsx examples/quickstart.ts)
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin, isStatusEvent, JobTracker, LocalPluginManager, MemoryResultStorage, type JobStatusEvent } from 'jobwire';

const transcribe = definePlugin({
  name: 'fake-transcribe',
  title: 'Fake transcription',
  input: z.object({ file: z.string().min(1), seconds: z.number().min(0.1).max(30).default(2) }),
  output: z.object({ text: z.string(), chunks: z.number() }),
  async run(input, ctx) {
    const chunks = 10;
    for (let chunk = 1; chunk <= chunks; chunk++) {
      // Pass the signal on: a cancel stops the wait at once.
      await sleep((input.seconds * 1000) / chunks, undefined, { signal: ctx.signal });
      ctx.progress((chunk / chunks) * 100, `chunk ${chunk}/${chunks}`);
    }
    return { text: `(transcript of ${input.file})`, chunks };
  },
});

const storage = new MemoryResultStorage();
const tracker = new JobTracker({ plugins: new LocalPluginManager().register(transcribe), storage, concurrency: 2 });

const bar = (percent: number) => '#'.repeat(Math.round(percent / 5)).padEnd(20, '.');
const show = (name: string, event: JobStatusEvent) => {
  const { status, progress, message = '', error } = event.job;
  console.log(`${name.padEnd(14)} ${status.padEnd(9)} [${bar(progress)}] ${progress.toFixed(0).padStart(3)}% ${error ? error.message : message}`);
};

const files = ['interview.wav', 'podcast.mp3', 'meeting.m4a'];
const jobs = await Promise.all(files.map((file) => tracker.submit(transcribe, { file, seconds: 1.5 })));
console.log(`submitted ${jobs.length} jobs, 2 run at once\n`);

// The third waits for a free slot; cancel it before it gets one.
setTimeout(() => void tracker.cancel(jobs[2]!.id, 'not needed any more'), 500);

await Promise.all(
  jobs.map(async (job, index) => {
    // Status and progress events carry the job's snapshot (output and gap events, from ctx.write, do not).
    for await (const event of tracker.events(job.id)) if (isStatusEvent(event)) show(files[index]!, event);
  }),
);

const { results } = await storage.list();
for (const record of results) console.log(`stored: ${(record.input as { file: string }).file} → ${JSON.stringify(record.result)} in ${record.durationMs} ms`);
console.log('stats:', JSON.stringify(await tracker.stats()));
await tracker.close();
