import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { getRequestListener } from '@hono/node-server';
import { EventSource } from 'eventsource';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager, type JobStatusEvent } from '../../src/index.js';
import { countOpenStreams, openJobStream, toSSEResponse, writeSSE, type JobStream } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseSSE } from '../helpers/sse.js';

const TERMINAL = ['completed', 'failed', 'cancelled'];

/** Follow a job with the `eventsource` package until it stops reconnecting; the Last-Event-IDs the server saw. */
function followWithEventSource(url: string): Promise<{ events: JobStatusEvent[]; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const events: JobStatusEvent[] = [];
    const source = new EventSource(url);
    for (const type of ['queued', 'started', 'progress', ...TERMINAL]) {
      source.addEventListener(type, (message) => events.push(JSON.parse(message.data) as JobStatusEvent));
    }
    // A deadline only so that a client that never stops is closed before the test times out (20 s);
    // a stop is a state, and it comes as soon as the 204 does, however loaded the machine.
    const deadline = setTimeout(() => {
      source.close();
      reject(new Error(`EventSource did not stop; got ${events.map((e) => e.type).join(',')}`));
    }, 15_000);
    source.onerror = () => {
      // After the terminal event the stream ends; the reconnect gets 204 and EventSource closes for good.
      if (source.readyState !== EventSource.CLOSED) return;
      clearTimeout(deadline);
      resolve({ events, closed: true });
    };
  });
}

describe.each([
  ['writeSSE (node ServerResponse)', 'node'],
  ['toSSEResponse (web Response via @hono/node-server)', 'web'],
] as const)('%s over real HTTP', (_name, kind) => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let server: TestServer;
  let lastEventIds: (string | undefined)[];
  let streams: JobStream[];
  let responses: ServerResponse[];
  let pulled: number;

  /** The same stream, counting the frames taken from it (to see whether a writer waits for the client). */
  function counted(stream: JobStream): JobStream {
    return {
      get status() {
        return stream.status;
      },
      jobId: stream.jobId,
      get closed() {
        return stream.closed;
      },
      close: () => stream.close(),
      async *[Symbol.asyncIterator]() {
        for await (const frame of stream) {
          pulled++;
          yield frame;
        }
      },
    };
  }

  beforeEach(async () => {
    control = controlledPlugin();
    // Progress messages as large as the slow-client test needs (they are cut at 2 KiB by default).
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), limits: { messageLength: 300_000 } });
    lastEventIds = [];
    streams = [];
    responses = [];
    pulled = 0;
    const id = (url: string): string => url.split('/')[2] ?? '';
    if (kind === 'node') {
      server = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
        lastEventIds.push(req.headers['last-event-id'] as string | undefined);
        responses.push(res);
        const stream = await openJobStream(tracker, id(req.url ?? ''), { lastEventId: req.headers['last-event-id'] as string | undefined, retryMs: 10 });
        streams.push(stream);
        await writeSSE(res, counted(stream));
      });
    } else {
      server = await startServer(
        getRequestListener(async (request) => {
          lastEventIds.push(request.headers.get('last-event-id') ?? undefined);
          const stream = await openJobStream(tracker, id(new URL(request.url).pathname), {
            lastEventId: request.headers.get('last-event-id'),
            retryMs: 10,
            signal: request.signal,
          });
          streams.push(stream);
          return toSSEResponse(counted(stream));
        }),
      );
    }
  });
  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await server.close();
  });

  it('sends the contract headers, flushed before the first event', async () => {
    const job = await tracker.submit('controlled', {});
    const controller = new AbortController();
    const response = await fetch(`${server.url}/jobs/${job.id}/events`, { signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache, no-transform');
    expect(response.headers.get('x-accel-buffering')).toBe('no');
    expect(response.headers.get('connection')).toBe('keep-alive');
    controller.abort();
    await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to close');
  });

  it('an EventSource client follows a job to its end, then stops at the 204', async () => {
    const job = await tracker.submit('controlled', {});
    const following = followWithEventSource(`${server.url}/jobs/${job.id}/events`);
    const run = await control.started(job.id);
    await until(() => countOpenStreams(tracker) === 1, 10_000, 'the client to connect');
    run.ctx.progress(50, 'line one\nline two\r\ndata: not an event');
    run.done.resolve({ ok: true }); // a connected client gets every event: progress is never dropped for the end
    const { events } = await following;
    expect(events.map((e) => e.type)).toEqual(['queued', 'started', 'progress', 'completed']);
    expect(events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(events[2]!.job.message).toBe('line one\nline two\r\ndata: not an event');
    // The reconnect carried the terminal seq and was told to stop.
    expect(lastEventIds).toEqual([undefined, '4']);
    expect(streams.map((s) => s.status)).toEqual([200, 204]);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('a reconnect with Last-Event-ID gets exactly the events after it', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.done.resolve(1);
    await tracker.wait(job.id);
    const response = await fetch(`${server.url}/jobs/${job.id}/events`, { headers: { 'Last-Event-ID': '2' } });
    const { events, retries } = parseSSE(await response.text());
    expect(retries).toEqual([10]);
    expect(events.map((e) => [e.id, e.event])).toEqual([['3', 'completed']]);
    const unknown = await fetch(`${server.url}/jobs/AAAAAAAAAAAAAAAAAAAAAA/events`);
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ error: { code: 'JOB_NOT_FOUND', message: 'Unknown job AAAAAAAAAAAAAAAAAAAAAA' } });
  });

  it('a client that disconnects frees its stream at once, and the job goes on', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const controller = new AbortController();
    const response = await fetch(`${server.url}/jobs/${job.id}/events`, { signal: controller.signal });
    const reader = response.body!.getReader();
    await reader.read();
    expect(countOpenStreams(tracker)).toBe(1);
    controller.abort();
    await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to close after the client left');
    expect(streams[0]!.closed).toBe(true);
    run.ctx.progress(80); // nobody listens: nothing breaks
    run.done.resolve('done');
    expect((await tracker.wait(job.id)).status).toBe('completed');
  });

  it('a slow client holds back the writer (bounded memory); a vanished one mid-write is cleaned up', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const { port } = new URL(server.url);
    const socket = connect(Number(port), '127.0.0.1');
    socket.pause(); // read nothing: the server's socket fills up
    socket.write(`GET /jobs/${job.id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    await until(() => countOpenStreams(tracker) === 1, 10_000, 'the slow client to connect');
    const big = 'x'.repeat(256 * 1024);
    for (let i = 0; i < 200; i++) {
      run.ctx.progress(i / 2, `${i} ${big}`); // 50 MB offered in total
      await new Promise((resolve) => setImmediate(resolve));
      if (kind === 'node') expect(responses[0]!.writableLength).toBeLessThan(responses[0]!.writableHighWaterMark + 2 * big.length + 4096);
    }
    // The writer waited for the client: it took far fewer frames than the 200 reports (the rest coalesced):
    // 100 frames would be 25 MB, far more than any socket buffer holds.
    expect(pulled).toBeLessThan(100);
    socket.destroy(); // gone mid-write
    await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to close after the slow client vanished');
    run.done.resolve('ok');
    expect((await tracker.wait(job.id)).status).toBe('completed');
  });
});

describe('toSSEResponse without a server', () => {
  it('pulls frames only as the body is read: unread progress coalesces instead of piling up', async () => {
    const control = controlledPlugin();
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const response = toSSEResponse(await openJobStream(tracker, job.id));
    for (let i = 1; i <= 100; i++) run.ctx.progress(i * 0.5, `report ${i}`);
    run.done.resolve('ok');
    await tracker.wait(job.id);
    const { events } = parseSSE(await response.text());
    expect(events.map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'completed']);
    expect((JSON.parse(events[2]!.data) as JobStatusEvent).job.message).toBe('report 100');
    expect(countOpenStreams(tracker)).toBe(0);
    await tracker.close();
  });

  it('204 and 404 answers carry no stream', async () => {
    const control = controlledPlugin();
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
    const missing = toSSEResponse(await openJobStream(tracker, 'nope'));
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe('JOB_NOT_FOUND');
    const job = await tracker.submit('controlled', {});
    (await control.started(job.id)).done.resolve(1);
    await tracker.wait(job.id);
    const done = toSSEResponse(await openJobStream(tracker, job.id, { lastEventId: 3 }));
    expect(done.status).toBe(204);
    expect(done.body).toBeNull();
    await tracker.close();
  });
});
