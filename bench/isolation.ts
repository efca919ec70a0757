/**
 * 7. Isolation overhead: submit → completed for a plugin that does nothing, inline, in a worker
 * thread and in a child process, each beside its raw anchor measured in the same run — a bare
 * tinypool round trip (task + one port message) and a bare fork (IPC job, answer, exit).
 */
import { fork } from 'node:child_process';
import { MessageChannel } from 'node:worker_threads';
import Tinypool from 'tinypool';
import { JobTracker, LocalPluginManager, type IsolationMode } from 'jobwire';
import { median, percentile, QUICK, report, round, rounds } from './lib.js';

const THREAD_JOBS = QUICK ? 200 : 2_000;
const PROCESS_JOBS = QUICK ? 10 : 50;
const plugin = new URL('./fixtures/echo-plugin.mjs', import.meta.url);

async function jobwire(isolation: IsolationMode, count: number): Promise<number[]> {
  const plugins = new LocalPluginManager();
  await plugins.load(plugin, undefined, { isolation });
  const tracker = new JobTracker({ plugins, concurrency: 1 });
  let n = 0;
  const times = await rounds(count, Math.min(20, count), async () => {
    const job = await tracker.submit('echo', { n: n++ });
    await tracker.wait(job.id);
  });
  await tracker.close();
  await plugins.close();
  return times;
}

async function rawThread(count: number): Promise<number[]> {
  const pool = new Tinypool({ filename: new URL('./fixtures/raw-thread-task.mjs', import.meta.url).href, minThreads: 0, maxThreads: 1, idleTimeout: 30_000 });
  let n = 0;
  const times = await rounds(count, Math.min(20, count), async () => {
    const { port1, port2 } = new MessageChannel();
    const progress = new Promise((resolve) => port1.once('message', resolve));
    await Promise.all([pool.run({ n: n++, port: port2 }, { transferList: [port2] }), progress]);
    port1.close();
  });
  await pool.destroy();
  return times;
}

async function rawProcess(count: number): Promise<number[]> {
  const file = new URL('./fixtures/raw-child.mjs', import.meta.url);
  let n = 0;
  return rounds(count, Math.min(3, count), async () => {
    const child = fork(file, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const messages: unknown[] = [];
    child.on('message', (message) => messages.push(message));
    child.send({ n: n++ });
    await new Promise((resolve) => child.once('exit', resolve));
    if (messages.length !== 2) throw new Error('raw child did not answer');
  });
}

const inline = await jobwire('inline', THREAD_JOBS);
const thread = await jobwire('thread', THREAD_JOBS);
const threadRaw = await rawThread(THREAD_JOBS);
const processed = await jobwire('process', PROCESS_JOBS);
const processRaw = await rawProcess(PROCESS_JOBS);

const figures = {
  inlineMedianMs: round(median(inline), 3),
  threadMedianMs: round(median(thread), 3),
  threadP99Ms: round(percentile(thread, 99), 3),
  rawTinypoolMedianMs: round(median(threadRaw), 3),
  threadVsRawTinypool: round(median(thread) / median(threadRaw)),
  processMedianMs: round(median(processed), 1),
  rawForkMedianMs: round(median(processRaw), 1),
  processVsRawFork: round(median(processed) / median(processRaw)),
};
report({
  name: 'isolation',
  line:
    `isolation: a no-op job takes ${figures.inlineMedianMs} ms inline, ${figures.threadMedianMs} ms in a thread ` +
    `(raw tinypool round trip ${figures.rawTinypoolMedianMs} ms: ${figures.threadVsRawTinypool}×), ${figures.processMedianMs} ms in a process ` +
    `(raw fork ${figures.rawForkMedianMs} ms: ${figures.processVsRawFork}×) — medians, submit → completed`,
  figures,
});
