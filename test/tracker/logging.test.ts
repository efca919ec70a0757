import { request } from 'node:http';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type ResultStorage } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';
import { startServer } from '../helpers/server.js';

/** A real pino logger writing JSON lines into an array. */
function capture() {
  const lines: { level: number; msg: string; jobId?: string; err?: { message: string } }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line) as (typeof lines)[number]) });
  return { logger, lines };
}

const echo = definePlugin({ name: 'echo', input: z.object({}), run: async () => ({ ok: true }) });

describe('logging through a pino logger', () => {
  const consoleSpies = [vi.spyOn(console, 'error'), vi.spyOn(console, 'warn'), vi.spyOn(console, 'log')];
  afterEach(() => {
    for (const spy of consoleSpies) expect(spy).not.toHaveBeenCalled();
  });

  it('is silent by default, and nothing goes to the console', async () => {
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo) });
    tracker.on('job:completed', () => {
      throw new Error('listener bug');
    });
    expect((await tracker.wait((await tracker.submit('echo', {})).id)).status).toBe('completed');
    await tracker.close();
  });

  it('a listener that threw and a result save that failed are logged with the job id', async () => {
    const { logger, lines } = capture();
    const failing: ResultStorage = {
      save: () => Promise.reject(new Error('disk full')),
      get: async () => undefined,
      list: async () => ({ results: [] }),
      delete: async () => false,
    };
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo), logger, storage: failing });
    tracker.on('job:completed', () => {
      throw new Error('listener bug');
    });
    const job = await tracker.wait((await tracker.submit('echo', {})).id);
    await tracker.close({ timeoutMs: 0 });
    const listener = lines.find((line) => line.msg.includes('listener threw'));
    expect(listener).toMatchObject({ level: 50, jobId: job.id, err: { message: 'listener bug' } });
    const save = lines.find((line) => line.msg.includes('result save failed'));
    expect(save).toMatchObject({ level: 50, jobId: job.id });
  });

  it('a client that vanished mid-stream frees its stream; nothing is thrown or logged as an error', async () => {
    const { logger, lines } = capture();
    const control = controlledPlugin();
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), logger });
    const server = await startServer(toNodeHandler(createJobRoutes(tracker, { logger }), { logger }));
    try {
      const job = await tracker.submit('controlled', {});
      const run = await control.started(job.id);
      const req = request(`${server.url}/jobs/${job.id}/events`);
      req.on('error', () => undefined);
      req.on('response', (res) => res.once('data', () => req.destroy()));
      req.end();
      await until(() => countOpenStreams(tracker) === 1, 2_000, 'the stream to open');
      await until(() => countOpenStreams(tracker) === 0, 2_000, 'the stream to close');
      // Keep reporting: writes to the gone client must not throw anywhere.
      for (let i = 0; i < 5; i++) run.ctx.progress(i * 10, 'still going');
      run.done.resolve('ok');
      expect((await tracker.wait(job.id)).status).toBe('completed');
      expect(lines.every((line) => line.level < 50)).toBe(true);
    } finally {
      await tracker.close();
      await server.close();
    }
  });
});
