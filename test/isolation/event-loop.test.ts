import { afterEach, describe, expect, it } from 'vitest';
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type IsolationMode } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ISOLATION_PLUGINS, isolationPlugins } from '../helpers/isolation.js';

const { busy } = await isolationPlugins();
const HEARTBEAT_MS = 100;
const TICK_MS = 250;
const BUSY_MS = 2_000;

/** Reports progress every `everyMs`, in the host. */
const ticker = definePlugin({
  name: 'ticker',
  input: z.object({ ticks: z.number().int(), everyMs: z.number().int() }),
  async run(input, ctx) {
    for (let i = 1; i <= input.ticks; i++) {
      await new Promise((resolve) => setTimeout(resolve, input.everyMs));
      ctx.progress((i / input.ticks) * 100, `tick ${i}`);
    }
    return { ticks: input.ticks };
  },
});

interface Frame {
  kind: 'progress' | 'heartbeat' | 'other';
  at: number;
}

/**
 * Follow a ticker job's SSE stream while `busy` blocks its event loop for 2 s, and return the frames
 * that arrived while it ran.
 */
async function framesDuringBusyLoop(isolation: IsolationMode, opened: { server?: TestServer; close?: () => Promise<void> }) {
  const plugins = new LocalPluginManager().register(ticker).register(busy!, undefined, { isolation, module: ISOLATION_PLUGINS });
  const tracker = new JobTracker({ plugins, concurrency: 2 });
  const server = await startServer(toNodeHandler(createJobRoutes(tracker, { sse: { heartbeatMs: HEARTBEAT_MS } })));
  opened.close = async () => {
    await server.close();
    await tracker.close({ timeoutMs: 0 });
    await plugins.close();
  };

  const job = await tracker.submit('ticker', { ticks: Math.ceil((BUSY_MS + 2_000) / TICK_MS), everyMs: TICK_MS });
  const frames: Frame[] = [];
  const parser = createParser({
    onEvent: (event) => frames.push({ kind: event.event === 'progress' ? 'progress' : 'other', at: Date.now() }),
    onComment: () => frames.push({ kind: 'heartbeat', at: Date.now() }),
  });
  const response = await fetch(`${server.url}/jobs/${job.id}/events`);
  expect(response.status).toBe(200);
  const reading = (async () => {
    const decoder = new TextDecoder();
    const reader = response.body!.getReader();
    for (let read = await reader.read(); !read.done; read = await reader.read()) parser.feed(decoder.decode(read.value, { stream: true }));
  })();

  while (!frames.some((frame) => frame.kind === 'progress')) await new Promise((resolve) => setTimeout(resolve, 10));
  let busyStartedAt = 0;
  tracker.on('job:started', (event) => {
    if (event.job.plugin === 'busy') busyStartedAt = Date.now();
  });
  const blocker = await tracker.submit('busy', { ms: BUSY_MS });
  const blocked = await tracker.wait(blocker.id);
  const busyEndedAt = Date.now();
  expect(blocked.status).toBe('completed');
  await reading;
  return frames.filter((frame) => frame.at >= busyStartedAt && frame.at <= busyEndedAt);
}

function largestGap(frames: Frame[]): number {
  let gap = 0;
  for (let i = 1; i < frames.length; i++) gap = Math.max(gap, frames[i]!.at - frames[i - 1]!.at);
  return gap;
}

describe('an event-loop-blocking plugin and a live SSE stream', () => {
  const opened: { close?: () => Promise<void> } = {};
  afterEach(async () => {
    await opened.close?.();
    delete opened.close;
  });

  it('in a worker thread: heartbeats and progress keep arriving on time while it spins for 2 s', async () => {
    const frames = await framesDuringBusyLoop('thread', opened);
    const progress = frames.filter((frame) => frame.kind === 'progress');
    const heartbeats = frames.filter((frame) => frame.kind === 'heartbeat');
    // 2 s of a tick every 250 ms, a heartbeat after every 100 ms of silence.
    expect(progress.length).toBeGreaterThanOrEqual(6);
    expect(heartbeats.length).toBeGreaterThanOrEqual(6);
    expect(largestGap(progress)).toBeLessThan(TICK_MS + 200);
    expect(largestGap(frames)).toBeLessThan(HEARTBEAT_MS + 200);
  });

  it('inline (the control): the same plugin stalls the stream for the whole loop', async () => {
    const frames = await framesDuringBusyLoop('inline', opened);
    // Nothing can be written while the host's own event loop spins: one frame on each side of the gap at most.
    expect(frames.length).toBeLessThanOrEqual(3);
  });
});
