/**
 * The server side of the live-output benchmark, in its own process (`--expose-gc`).
 *
 * MODE=jobwire (in memory) or MODE=bullmq (Redis, worker in this process): a plugin writes CHUNKS
 * small string chunks with `ctx.write` in a tight loop (yielding a tick every YIELD_EVERY), and
 * node:http serves the job's events with `openJobStream` + `writeSSE`. MODE=raw: the same loop
 * writes each chunk as its own SSE frame, `data: <the chunk's JSON>`, straight to the
 * `ServerResponse`, waiting for `drain` when the socket is full: the hand-written token stream.
 *
 * The writing starts once the one reader is attached. The process reports when it started (wall
 * clock) and ended writing, the peak RSS and heap over the run above the level before it, the heap
 * held when the job ended (before the reader caught up) and after the reader was done, and
 * (jobwire, bullmq) what `tracker.output()` retained at the end.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as nextTick } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { BullMQBackend } from 'jobwire/bullmq';
import { openJobStream, SSE_HEADERS, writeSSE } from 'jobwire/sse';
import { wallClock } from './lib.js';
import { expectedText, tokenOf } from './output-tokens.js';

const MODE = process.env.MODE ?? 'jobwire';
const CHUNKS = Number(process.env.CHUNKS ?? 100_000);
const YIELD_EVERY = Number(process.env.YIELD_EVERY ?? 100);
const PREFIX = process.env.PREFIX ?? `jobwire-bench-${process.pid}`;

const send = (message: object): void => void process.send?.(message);

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();

/**
 * Peak RSS and heap above the level when the run began, sampled every 5 ms; and, after a full GC
 * once the reader is done, the heap still held (the job's retained output).
 */
function memoryPeaks(): { held: () => number; stop: () => { rssDelta: number; heapDelta: number; heapKept: number } } {
  gc();
  const base = process.memoryUsage();
  let rss = base.rss;
  let heap = base.heapUsed;
  const sample = (): void => {
    const now = process.memoryUsage();
    rss = Math.max(rss, now.rss);
    heap = Math.max(heap, now.heapUsed);
  };
  const timer = setInterval(sample, 5);
  return {
    /** The heap held now above the start, after a full GC. */
    held: () => {
      sample();
      gc();
      return process.memoryUsage().heapUsed - base.heapUsed;
    },
    stop: () => {
      sample();
      clearInterval(timer);
      gc();
      return { rssDelta: rss - base.rss, heapDelta: heap - base.heapUsed, heapKept: process.memoryUsage().heapUsed - base.heapUsed };
    },
  };
}

let attach!: () => void;
const attached = new Promise<void>((resolve) => (attach = resolve));
let t0 = 0;
/** When the writing loop ended (wall clock). */
let writtenAt = 0;
let peaks: ReturnType<typeof memoryPeaks> | undefined;
void attached.then(() => {
  peaks = memoryPeaks();
  t0 = wallClock();
});

/** The SSE path of a job, by id; undefined for any other URL. */
const jobIdOf = (req: IncomingMessage): string | undefined => /^\/jobs\/([^/]+)\/events$/.exec(req.url ?? '')?.[1];

function listen(handler: (req: IncomingMessage, res: ServerResponse) => void, id: string): void {
  const server = createServer(handler);
  server.listen(0, '127.0.0.1', () => send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, id }));
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'exit') void closing().then(() => process.exit(0));
});
let closing = async (): Promise<void> => {};

if (MODE === 'raw') {
  const id = randomBytes(12).toString('base64url');
  const drained = (res: ServerResponse): Promise<void> => new Promise((resolve) => res.once('drain', resolve));
  listen((req, res) => {
    if (jobIdOf(req) !== id) return void res.writeHead(404).end();
    res.writeHead(200, SSE_HEADERS);
    res.flushHeaders();
    attach();
    void (async () => {
      await attached;
      for (let i = 0; i < CHUNKS; i++) {
        if (!res.write(`data: ${JSON.stringify(tokenOf(i))}\n\n`)) await drained(res);
        if ((i + 1) % YIELD_EVERY === 0) await nextTick();
      }
      writtenAt = wallClock();
      res.end(() => send({ type: 'done', t0, writtenAt, ...peaks!.stop() }));
    })();
  }, id);
} else {
  const streamer = definePlugin({
    name: 'streamer',
    input: z.object({ chunks: z.number().int(), yieldEvery: z.number().int() }),
    async run(input, ctx) {
      await attached;
      for (let i = 0; i < input.chunks; i++) {
        ctx.write(tokenOf(i));
        if ((i + 1) % input.yieldEvery === 0) await nextTick();
      }
      writtenAt = wallClock();
      return { chunks: input.chunks };
    },
  });
  const plugins = new LocalPluginManager().register(streamer);
  const backend = MODE === 'bullmq' ? new BullMQBackend({ connection: 'redis://127.0.0.1:6379', queueName: `output-${process.pid}`, prefix: PREFIX, role: 'both' }) : undefined;
  const tracker = new JobTracker({ plugins, ...(backend ? { backend } : {}) });
  closing = () => tracker.close({ timeoutMs: 1_000 });
  await backend?.ready();
  const job = await tracker.submit(streamer, { chunks: CHUNKS, yieldEvery: YIELD_EVERY });
  let responded!: () => void;
  const answered = new Promise<void>((resolve) => (responded = resolve));
  listen((req, res) => {
    const id = jobIdOf(req);
    if (id === undefined) return void res.writeHead(404).end();
    void (async () => {
      const lastEventId = req.headers['last-event-id'];
      const stream = await openJobStream(tracker, id, { lastEventId: typeof lastEventId === 'string' ? lastEventId : undefined });
      const writing = writeSSE(res, stream);
      attach();
      await writing;
      responded();
    })();
  }, job.id);
  const finished = await tracker.wait(job.id, { timeoutMs: 600_000 });
  if (finished.status !== 'completed') throw new Error(`the streaming job ended ${finished.status}: ${JSON.stringify(finished.error)}`);
  // While a stalled reader has read nothing yet: the job's retained output and the reader's unread output.
  const heapHeld = peaks!.held();
  send({ type: 'finished' }); // a stalled reader starts reading now
  await answered;
  const memory = peaks!.stop();
  const output = await tracker.output(job.id);
  const text = output.chunks.every((chunk) => typeof chunk === 'string') ? output.chunks.join('') : undefined;
  const expected = expectedText(CHUNKS);
  send({
    type: 'done',
    t0,
    writtenAt,
    ...memory,
    heapHeld,
    retained: { chunks: output.chunks.length, gap: output.gap, lastSeq: output.lastSeq, whole: text === expected, suffix: text !== undefined && expected.endsWith(text) },
  });
}
