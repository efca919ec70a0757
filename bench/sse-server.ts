/**
 * The server side of the SSE fan-out benchmark, in its own process. MODE=jobwire serves jobs through
 * createJobRoutes (SSE and polling); MODE=raw writes the same frames straight to ServerResponses.
 * Each of JOBS jobs waits until CLIENTS streams (or pollers) are attached, then reports progress
 * every TICK_MS, TICKS times, carrying `<tick>:<wall-clock time>` in its message. Jobs start
 * TICK_MS / JOBS apart, so their reports do not all land in the same millisecond.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { createJobRoutes, toNodeHandler } from 'jobwire/http';
import { countOpenStreams, encodeSSE } from 'jobwire/sse';
import { wallClock } from './lib.js';

const MODE = process.env.MODE ?? 'jobwire';
const JOBS = Number(process.env.JOBS ?? 10);
const TICKS = Number(process.env.TICKS ?? 30);
const TICK_MS = Number(process.env.TICK_MS ?? 100);
const CLIENTS = Number(process.env.CLIENTS ?? 1000);

let go!: () => void;
const started = new Promise<void>((resolve) => (go = resolve));
const send = (message: object): void => void process.send?.(message);
// Exit when told (after the clients are done), so a --cpu-prof profile gets written.
process.on('message', (message: { type?: string }) => message.type === 'exit' && process.exit(0));

if (MODE === 'raw') {
  const streams = new Map<string, ServerResponse[]>();
  const ids = Array.from({ length: JOBS }, (_, i) => `job${i}`);
  for (const id of ids) streams.set(id, []);
  let attached = 0;
  const server = createServer((req, res) => {
    const id = /^\/jobs\/([^/]+)\/events$/.exec(req.url ?? '')?.[1];
    const list = id === undefined ? undefined : streams.get(id);
    if (!list) return void res.writeHead(404).end();
    res.writeHead(200, { 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-cache, no-transform', Connection: 'keep-alive' });
    res.flushHeaders();
    list.push(res);
    if (++attached === CLIENTS) go();
  });
  server.listen(0, '127.0.0.1', () => send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ids }));
  await started;
  await Promise.all(
    ids.map(async (id, index) => {
      const list = streams.get(id)!;
      const base = { id, plugin: 'ticker', status: 'running', input: {}, metadata: {}, priority: 0, createdAt: new Date().toISOString() };
      await sleep((index * TICK_MS) / JOBS);
      for (let tick = 1; tick <= TICKS + 1; tick++) {
        await sleep(TICK_MS);
        const done = tick > TICKS;
        const event = { seq: tick + 2, type: done ? 'completed' : 'progress', jobId: id, at: new Date().toISOString(), job: { ...base, progress: done ? 100 : (tick / TICKS) * 100, message: `${tick}:${wallClock()}` } };
        const frame = encodeSSE({ id: event.seq, event: event.type, data: JSON.stringify(event) });
        for (const res of list) res.write(frame);
        if (done) for (const res of list) res.end();
      }
    }),
  );
  send({ type: 'done' });
} else {
  const ticker = definePlugin({
    name: 'ticker',
    input: z.object({ index: z.number() }),
    async run(input, ctx) {
      await started;
      await sleep((input.index * TICK_MS) / JOBS, undefined, { signal: ctx.signal });
      for (let tick = 1; tick <= TICKS; tick++) {
        await sleep(TICK_MS, undefined, { signal: ctx.signal });
        ctx.progress((tick / TICKS) * 100, `${tick}:${wallClock()}`);
      }
      await sleep(TICK_MS, undefined, { signal: ctx.signal }); // completes one tick later, as the raw server does
      return { ticks: TICKS };
    },
  });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(ticker), concurrency: JOBS });
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) ids.push((await tracker.submit('ticker', { index: i })).id);
  const server = createServer(toNodeHandler(createJobRoutes(tracker, { sse: { heartbeatMs: 15_000 } })));
  server.keepAliveTimeout = 60_000;
  server.listen(0, '127.0.0.1', () => send({ type: 'ready', url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, ids }));
  if (MODE === 'poll') {
    process.on('message', (message: { type?: string }) => message.type === 'go' && go());
  } else {
    while (countOpenStreams(tracker) < CLIENTS) await sleep(5);
    go();
  }
  await Promise.all(ids.map((id) => tracker.wait(id)));
  send({ type: 'done' });
}
