import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createParser } from 'eventsource-parser';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type IsolationMode } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { startServer } from '../helpers/server.js';
import { until } from '../helpers/deferred.js';
import { ISOLATION_PLUGINS, isolationPlugins, lineLogger } from '../helpers/isolation.js';

const { busy } = await isolationPlugins();
const HEARTBEAT_MS = 100;
const TICK_MS = 250;

/** Reports progress every `everyMs`, in the host, until its signal aborts. */
const ticker = definePlugin({
  name: 'ticker',
  input: z.object({ everyMs: z.number().int() }),
  async run(input, ctx) {
    for (let i = 1; !ctx.signal.aborted; i++) {
      await new Promise((resolve) => setTimeout(resolve, input.everyMs));
      ctx.progress(i % 100, `tick ${i}`);
    }
    throw ctx.signal.reason;
  },
});

interface Frame {
  kind: 'progress' | 'heartbeat' | 'other';
  /** When the client read it (the host's clock). */
  at: number;
}

/** What `busy` returns. */
interface Spin {
  from: number;
  until: number;
  stoppedBy: 'time' | 'file';
}

/**
 * A ticker job followed over SSE (client and server in this process) beside a `busy` plugin that
 * blocks the event loop it runs on. `whileSpinning` runs once the plugin has said it spins.
 */
async function tickerBeside(isolation: IsolationMode, busyInput: { ms: number; stopFile?: string }, whileSpinning: (frames: Frame[], since: number) => Promise<void>, opened: { close?: () => Promise<void> }) {
  const { lines, logger } = lineLogger();
  const plugins = new LocalPluginManager().register(ticker).register(busy!, undefined, { isolation, module: ISOLATION_PLUGINS });
  const tracker = new JobTracker({ plugins, concurrency: 2, logger });
  const server = await startServer(toNodeHandler(createJobRoutes(tracker, { sse: { heartbeatMs: HEARTBEAT_MS } })));
  opened.close = async () => {
    await server.close();
    await tracker.close({ timeoutMs: 0 });
    await plugins.close();
  };

  const job = await tracker.submit('ticker', { everyMs: TICK_MS });
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
  await until(() => frames.some((frame) => frame.kind === 'progress'), 30_000, 'the first tick');

  const blocker = await tracker.submit('busy', busyInput);
  await until(() => lines.includes('spinning'), 30_000, 'the plugin to spin');
  await whileSpinning(frames, Date.now());
  const blocked = await tracker.wait(blocker.id);
  expect(blocked.status).toBe('completed');
  await tracker.cancel(job.id);
  await reading; // the stream ends after the ticker's terminal event
  return { frames, spin: blocked.result as Spin };
}

describe('an event-loop-blocking plugin and a live SSE stream', () => {
  const opened: { close?: () => Promise<void> } = {};
  afterEach(async () => {
    await opened.close?.();
    delete opened.close;
  });

  it('in a worker thread: heartbeats and progress keep arriving while it spins', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobwire-spin-'));
    const stopFile = join(dir, 'stop');
    try {
      // It spins until told to stop (a minute at most), and is told only once the stream has shown
      // it is alive meanwhile: six ticks and six heartbeats read since the plugin said it spins.
      const { spin } = await tickerBeside('thread', { ms: 60_000, stopFile }, async (frames, since) => {
        const count = (kind: Frame['kind']) => frames.filter((frame) => frame.at > since && frame.kind === kind).length;
        await until(() => count('progress') >= 6 && count('heartbeat') >= 6, 30_000, 'six ticks and six heartbeats while the plugin spins');
        await writeFile(stopFile, '');
      }, opened);
      expect(spin.stoppedBy).toBe('file');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('inline (the control): nothing reaches the stream while the same plugin spins', async () => {
    const { frames, spin } = await tickerBeside('inline', { ms: 1_000 }, async () => {}, opened);
    expect(spin.stoppedBy).toBe('time');
    // The client reads on the same event loop the plugin blocks: no frame can be read in between.
    expect(frames.filter((frame) => frame.at > spin.from && frame.at < spin.until)).toEqual([]);
    expect(frames.some((frame) => frame.at >= spin.until)).toBe(true);
  });
});
