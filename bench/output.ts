/**
 * 8. Live output: a plugin writes CHUNKS small string chunks (`ctx.write('tok123 ')`) as fast as it
 * can; one SSE reader over real HTTP on loopback (this process, node's fetch, `eventsource-parser`)
 * reconstructs the text and checks it byte for byte, every chunk at its seq. Side by side with a raw
 * `ServerResponse` writer sending each chunk as its own SSE frame (`data: <JSON>`), alternating
 * rounds; medians.
 * Then the same on the BullMQ backend over Redis (worker in the server process), and a reader that
 * reads nothing until the job has ended, to see what a stalled reader costs the server.
 * The server runs in its own process (output-server.ts): its peak RSS and heap are reported.
 */
import type { ChildProcess } from 'node:child_process';
import { createParser } from 'eventsource-parser';
import { deleteKeys, redisAnswers } from '../test/helpers/redis.js';
import { forkBench, median, QUICK, report, round, target, wallClock } from './lib.js';
import { expectedText, firstDifference, tokenOf } from './output-tokens.js';

const CHUNKS = QUICK ? 20_000 : 100_000;
const YIELD_EVERY = 100;
const ROUNDS = QUICK ? 1 : Number(process.env.ROUNDS ?? 5);
/** The stalled reader's job writes this much (about 9 MB of text): more than loopback's socket buffers hold, so the server has to hold or drop the rest. */
const STALLED_CHUNKS = Number(process.env.STALLED_CHUNKS ?? 1_000_000);
const PREFIX = `jobwire-bench-output-${process.pid}`;

type Mode = 'raw' | 'jobwire' | 'bullmq';

interface Message {
  type: string;
  url?: string;
  id?: string;
  t0?: number;
  writtenAt?: number;
  rssDelta?: number;
  heapDelta?: number;
  heapKept?: number;
  heapHeld?: number;
  retained?: { chunks: number; gap: boolean; lastSeq: number; whole: boolean; suffix: boolean };
}

function start(env: Record<string, string>): { child: ChildProcess; next: (type: string) => Promise<Message> } {
  return forkBench<Message>('./output-server.ts', env, ['--expose-gc']);
}

/** What the reader got: output and gap events in the order they came, and the SSE frames in all. */
interface Received {
  items: ({ type: 'output'; seq: number; chunk: string } | { type: 'gap'; fromSeq: number; toSeq: number })[];
  frames: number;
  outputFrames: number;
  gaps: number;
  lastOutputAt: number;
}

/** Follow the stream to its end; with `stall`, read nothing until it settles (the socket fills, the server holds the rest). */
async function follow(url: string, stall?: Promise<unknown>): Promise<Received> {
  const received: Received = { items: [], frames: 0, outputFrames: 0, gaps: 0, lastOutputAt: 0 };
  let failure: Error | undefined;
  let rawSeq = 0;
  const parser = createParser({
    onEvent(event) {
      received.frames++;
      if (event.event === undefined) {
        // The raw writer's frames: `data: <the chunk's JSON>`, one per chunk, numbered by their order.
        const chunk = JSON.parse(event.data) as unknown;
        if (typeof chunk !== 'string') failure ??= new Error(`raw frame ${rawSeq + 1} carries a ${typeof chunk}, not a string`);
        received.items.push({ type: 'output', seq: ++rawSeq, chunk: String(chunk) });
        received.outputFrames++;
        received.lastOutputAt = wallClock();
      } else if (event.event === 'output') {
        const { seq, chunk } = JSON.parse(event.data) as { seq: number; chunk: unknown };
        if (typeof chunk !== 'string') failure ??= new Error(`output event ${seq} carries a ${typeof chunk}, not a string`);
        received.items.push({ type: 'output', seq, chunk: String(chunk) });
        received.outputFrames++;
        received.lastOutputAt = wallClock();
      } else if (event.event === 'gap') {
        const { fromSeq, toSeq } = JSON.parse(event.data) as { fromSeq: number; toSeq: number };
        received.items.push({ type: 'gap', fromSeq, toSeq });
        received.gaps++;
      }
    },
    onError(error) {
      failure ??= error;
    },
  });
  const response = await fetch(url);
  if (response.status !== 200 || !response.body) throw new Error(`${url} answered ${response.status}`);
  await stall;
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parser.feed(decoder.decode(value, { stream: true }));
  }
  parser.feed(decoder.decode());
  if (failure) throw failure;
  return received;
}

/**
 * Check what a reader got against what the plugin wrote: every output event's chunk is exactly the
 * tokens that end at its seq (a merged event holds several), seqs only go up, and the output and
 * gap events together cover every chunk once, in order. Returns the text received.
 */
function check(what: string, received: Received, chunks: number): string {
  const expected = expectedText(chunks);
  const offsets = new Int32Array(chunks + 1);
  for (let i = 0; i < chunks; i++) offsets[i + 1] = offsets[i]! + tokenOf(i).length;
  let next = 0; // the index of the next token due
  let base: number | undefined; // the seq of token 0
  const parts: string[] = [];
  /** The events around the `index`th, for a failure message. */
  const around = (index: number): string =>
    received.items
      .slice(Math.max(0, index - 3), index + 4)
      .map((item) => (item.type === 'gap' ? `gap ${item.fromSeq}…${item.toSeq}` : `output seq ${item.seq} (${item.chunk.split(' ').length - 1} tokens)`))
      .join(', ');
  for (const [index, item] of received.items.entries()) {
    if (item.type === 'gap') {
      base ??= item.fromSeq;
      if (item.fromSeq !== base + next) throw new Error(`${what}: a gap from seq ${item.fromSeq} where seq ${base + next} was due; events: ${around(index)}`);
      next += item.toSeq - item.fromSeq + 1;
      continue;
    }
    const tokens = item.chunk.split(' ').length - 1; // every token ends with its one space
    base ??= item.seq - tokens + 1;
    const want = expected.slice(offsets[next], offsets[Math.min(chunks, next + tokens)]);
    if (item.seq !== base + next + tokens - 1 || item.chunk !== want) {
      throw new Error(`${what}: output event seq ${item.seq} is not the ${tokens} token(s) due at seq ${base + next + tokens - 1}: ${firstDifference(want, item.chunk)}; events: ${around(index)}`);
    }
    parts.push(item.chunk);
    next += tokens;
  }
  if (next !== chunks) throw new Error(`${what}: the reader got ${next} of ${chunks} chunks`);
  const text = parts.join('');
  if (received.gaps === 0 && text !== expected) throw new Error(`${what}: the text differs ${firstDifference(expected, text)}`);
  return text;
}

interface Run {
  tokensPerSec: number;
  frames: number;
  outputFrames: number;
  gaps: number;
  writeMs: number;
  rssDelta: number;
  heapDelta: number;
  heapKept: number;
  heapHeld: number;
  retained: Message['retained'];
}

async function run(mode: Mode, chunks: number, stalled = false): Promise<Run> {
  const server = start({ MODE: mode, CHUNKS: String(chunks), YIELD_EVERY: String(YIELD_EVERY), PREFIX });
  try {
    const ready = await server.next('ready');
    const done = server.next('done');
    done.catch(() => {}); // awaited below; a failed read must not leave it unhandled
    const received = await follow(`${ready.url}/jobs/${ready.id}/events`, stalled ? server.next('finished') : undefined);
    const result = await done;
    const what = `${mode}${stalled ? ' (stalled reader)' : ''}`;
    check(what, received, chunks);
    if (!stalled && received.gaps > 0) throw new Error(`${what}: a reader that keeps up got ${received.gaps} gap(s)`);
    if (result.retained && !result.retained.suffix) throw new Error(`${what}: tracker.output() is not the newest part of the text: ${JSON.stringify(result.retained)}`);
    if (result.retained && !stalled && !result.retained.whole) throw new Error(`${what}: tracker.output() lost output: ${JSON.stringify(result.retained)}`);
    return {
      tokensPerSec: chunks / ((received.lastOutputAt - result.t0!) / 1000),
      frames: received.frames,
      outputFrames: received.outputFrames,
      gaps: received.gaps,
      writeMs: result.writtenAt! - result.t0!,
      rssDelta: result.rssDelta!,
      heapDelta: result.heapDelta!,
      heapKept: result.heapKept!,
      heapHeld: result.heapHeld ?? 0,
      retained: result.retained,
    };
  } finally {
    if (server.child.exitCode === null && server.child.signalCode === null) {
      const exited = new Promise((resolve) => server.child.once('exit', resolve));
      if (server.child.connected) server.child.send({ type: 'exit' });
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5_000))]);
      server.child.kill();
    }
  }
}

const mb = (bytes: number): number => round(bytes / 2 ** 20, 1);
const rate = (perSec: number): string => (perSec >= 1e6 ? `${round(perSec / 1e6, 2)}M` : `${Math.round(perSec / 1e3)}k`);
const medianOf = (runs: Run[], key: 'tokensPerSec' | 'outputFrames' | 'rssDelta' | 'heapDelta' | 'heapKept' | 'writeMs'): number => median(runs.map((r) => r[key]));

await run('raw', Math.min(CHUNKS, 20_000)); // warm-up (both sides' caches and the loopback path)
await run('jobwire', Math.min(CHUNKS, 20_000));
const rawRuns: Run[] = [];
const ourRuns: Run[] = [];
for (let i = 0; i < ROUNDS; i++) {
  rawRuns.push(await run('raw', CHUNKS));
  ourRuns.push(await run('jobwire', CHUNKS));
}
const raw = { tokensPerSec: medianOf(rawRuns, 'tokensPerSec'), frames: medianOf(rawRuns, 'outputFrames'), rssDelta: medianOf(rawRuns, 'rssDelta'), heapDelta: medianOf(rawRuns, 'heapDelta') };
const ours = { tokensPerSec: medianOf(ourRuns, 'tokensPerSec'), frames: medianOf(ourRuns, 'outputFrames'), rssDelta: medianOf(ourRuns, 'rssDelta'), heapDelta: medianOf(ourRuns, 'heapDelta'), heapKept: medianOf(ourRuns, 'heapKept'), writeMs: medianOf(ourRuns, 'writeMs') };
const ratio = ours.tokensPerSec / raw.tokensPerSec;

let bullmq: Run | undefined;
if (await redisAnswers()) {
  try {
    bullmq = await run('bullmq', CHUNKS);
  } finally {
    await deleteKeys(PREFIX);
  }
}
const stalled = await run('jobwire', STALLED_CHUNKS, true);

const bullmqLine = bullmq
  ? `on BullMQ (Redis on loopback, worker in the server process): ${rate(bullmq.tokensPerSec)} tokens/s in ${bullmq.outputFrames} output frames (${round(bullmq.tokensPerSec / raw.tokensPerSec)}× raw), peak RSS +${mb(bullmq.rssDelta)} MB / heap +${mb(bullmq.heapDelta)} MB`
  : 'BullMQ: skipped, no Redis on 127.0.0.1:6379';
report({
  name: 'output',
  line:
    `live output (${CHUNKS} string chunks written in a tight loop, one SSE reader with eventsource-parser, text checked byte for byte, median of ${ROUNDS} rounds): ` +
    `jobwire ${rate(ours.tokensPerSec)} tokens/s in ${ours.frames} output frames, raw ServerResponse ${rate(raw.tokensPerSec)} tokens/s in ${raw.frames} frames → ${round(ratio)}× (target ≥ 0.8×: ${target(ratio >= 0.8)}); ` +
    `server peak RSS +${mb(ours.rssDelta)} MB / heap +${mb(ours.heapDelta)} MB (raw +${mb(raw.rssDelta)} / +${mb(raw.heapDelta)} MB), the job's retained output +${mb(ours.heapKept)} MB of heap after GC; ${bullmqLine}; ` +
    `a reader stalled while ${STALLED_CHUNKS} chunks were written: ${stalled.gaps} gap event(s), then the newest output; after GC the server held +${mb(stalled.heapHeld)} MB while the reader was stalled and +${mb(stalled.heapKept)} MB once it had read (the job's retained output), peak heap +${mb(stalled.heapDelta)} MB`,
  figures: {
    chunks: CHUNKS,
    yieldEvery: YIELD_EVERY,
    rounds: ROUNDS,
    jobwireTokensPerSec: Math.round(ours.tokensPerSec),
    rawTokensPerSec: Math.round(raw.tokensPerSec),
    ratio: round(ratio, 3),
    jobwireOutputFrames: ours.frames,
    rawOutputFrames: raw.frames,
    jobwireWriteMs: round(ours.writeMs, 1),
    jobwireRssDelta: ours.rssDelta,
    jobwireHeapDelta: ours.heapDelta,
    jobwireHeapKept: ours.heapKept,
    rawRssDelta: raw.rssDelta,
    rawHeapDelta: raw.heapDelta,
    jobwireTokensPerSecs: ourRuns.map((r) => Math.round(r.tokensPerSec)),
    rawTokensPerSecs: rawRuns.map((r) => Math.round(r.tokensPerSec)),
    ...(bullmq
      ? { bullmqTokensPerSec: Math.round(bullmq.tokensPerSec), bullmqRatio: round(bullmq.tokensPerSec / raw.tokensPerSec, 3), bullmqOutputFrames: bullmq.outputFrames, bullmqRssDelta: bullmq.rssDelta, bullmqHeapDelta: bullmq.heapDelta }
      : { bullmqSkipped: true }),
    stalledChunks: STALLED_CHUNKS,
    stalledGaps: stalled.gaps,
    stalledOutputFrames: stalled.outputFrames,
    stalledHeapDelta: stalled.heapDelta,
    stalledRssDelta: stalled.rssDelta,
    stalledHeapKept: stalled.heapKept,
    stalledHeapHeld: stalled.heapHeld,
    stalledRetainedChunks: stalled.retained?.chunks ?? 0,
  },
});
