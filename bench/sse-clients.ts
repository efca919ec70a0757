/**
 * The load generator of the SSE fan-out benchmark, in its own process: CLIENTS readers over
 * loopback (node's fetch: one connection per stream), parsed with eventsource-parser; for every progress event, the time
 * from the plugin's report (carried in the message) to this process having parsed it.
 * POLL_MS > 0 polls GET /jobs/:id instead, for contrast: how long after a job finished each poller learns it.
 */
import { createParser } from 'eventsource-parser';
import { setTimeout as sleep } from 'node:timers/promises';
import { wallClock } from './lib.js';

const URL_BASE = process.env.URL_BASE ?? '';
const IDS = (process.env.IDS ?? '').split(',');
const CLIENTS = Number(process.env.CLIENTS ?? 1000);
const POLL_MS = Number(process.env.POLL_MS ?? 0);

const latencies: number[] = [];
const perTick: number[] = [];
/** The first reports warm up both ends (JIT, connection buffers, 1,000 fresh sockets): not counted. */
const WARMUP_TICKS = Number(process.env.TICKS ?? 30) >= 30 ? 5 : 2;

async function follow(id: string): Promise<void> {
  const response = await fetch(`${URL_BASE}/jobs/${id}/events`);
  const decoder = new TextDecoder();
  const parser = createParser({
    onEvent(event) {
      if (event.event !== 'progress') return;
      const [tick, sent] = ((JSON.parse(event.data) as { job: { message?: string } }).job.message ?? '').split(':').map(Number);
      if (tick! > WARMUP_TICKS) latencies.push(wallClock() - sent!);
      if (process.env.DEBUG_TICKS) perTick[tick!] = Math.max(perTick[tick!] ?? 0, wallClock() - sent!);
    },
  });
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) parser.feed(decoder.decode(chunk, { stream: true }));
}

async function poll(id: string, offset: number): Promise<void> {
  await sleep(offset);
  for (;;) {
    const job = (await (await fetch(`${URL_BASE}/jobs/${id}`)).json()) as { status: string; finishedAt?: string };
    if (job.status === 'completed') {
      // How long after the job finished this poller learned it.
      latencies.push(wallClock() - Date.parse(job.finishedAt ?? ''));
      return;
    }
    await sleep(POLL_MS);
  }
}

process.send?.({ type: 'started' });
await Promise.all(Array.from({ length: CLIENTS }, (_, i) => (POLL_MS > 0 ? poll(IDS[i % IDS.length]!, (i / CLIENTS) * POLL_MS) : follow(IDS[i % IDS.length]!))));
if (process.env.DEBUG_TICKS) console.error('max latency per tick', perTick.map((v) => Math.round(v)).join(' '));
process.send?.({ type: 'latencies', latencies });
