import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, isJobwireError, type JobClient, type JobEvent } from '../../src/client/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { collect, rejection, until } from '../helpers/deferred.js';
import { startJobServer, type JobServer, type JobServerOptions } from './server.js';

/** Following one job: `client.follow(id)` on `GET /jobs/:id/events`, through cut and refused connections. */
describe('client.follow(id)', () => {
  let server: JobServer;
  let client: JobClient;

  async function setup(options: JobServerOptions = {}): Promise<void> {
    server = await startJobServer(options);
    client = createJobClient({ baseUrl: server.url, reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
  }
  afterEach(() => server?.close());

  /** A job that wrote `chunks` JSON chunks (each its own seq) and completed: its log is queued, started, outputs, completed. */
  async function finishedJob(chunks: number): Promise<string> {
    const job = await server.tracker.submit('controlled', {});
    const run = await server.control.started(job.id);
    for (let n = 1; n <= chunks; n++) run.ctx.write({ n });
    run.done.resolve({ chunks });
    await server.tracker.wait(job.id);
    return job.id;
  }

  /**
   * Follow a running job and drive it from the events the client yields: each `started` or
   * `output` event makes the plugin write the next chunk, until `chunks`, then it completes. The
   * job's events are written while the client is connected, so every cut falls on a live stream.
   */
  async function followLive(chunks: number): Promise<{ id: string; events: JobEvent[] }> {
    const job = await server.tracker.submit('controlled', {});
    const run = await server.control.started(job.id);
    const events: JobEvent[] = [];
    let written = 0;
    for await (const event of client.follow(job.id)) {
      events.push(event);
      if (event.type !== 'started' && event.type !== 'output') continue;
      if (written < chunks) run.ctx.write({ n: ++written });
      else run.done.resolve({ chunks });
    }
    return { id: job.id, events };
  }

  it('yields every event of a job in order, from the first, and ends after the terminal event', async () => {
    await setup();
    const id = await finishedJob(5);
    const events = await collect(client.follow(id));
    expect(events.map((event) => event.type)).toEqual(['queued', 'started', 'output', 'output', 'output', 'output', 'output', 'completed']);
    expect(events).toEqual(await server.log(id));
    expect(server.streams).toEqual([{ path: `/jobs/${id}/events`, lastEventId: undefined }]);
  });

  it('a live stream cut in the middle of a frame, again and again: nothing lost, nothing twice, each reconnect resumes after the last event', async () => {
    await setup({ faults: () => ({ cutAfter: 2 }) });
    const { id, events } = await followLive(12);
    expect(events.map((event) => event.seq)).toEqual(Array.from({ length: 15 }, (_, index) => index + 1));
    expect(events).toEqual(await server.log(id));
    // Each connection carried two events, the reconnect asking for what follows the last one seen.
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([undefined, '2', '4', '6', '8', '10', '12', '14']);
  });

  it('a server that replays from the first event on each reconnect (a proxy dropped Last-Event-ID): each event still comes once', async () => {
    // Each connection carries three events more than the last: the first ones again, then new ones.
    await setup({ faults: (_, index) => ({ cutAfter: 3 * (index + 1), forgetCursor: true }) });
    const { id, events } = await followLive(6);
    expect(events).toEqual(await server.log(id));
    expect(server.streams.length).toBeGreaterThan(2);
  });

  it('reconnects through 5xx answers that are not JSON and connections dropped before an answer', async () => {
    await setup({ faults: (_, index) => [{ status: 502 }, 'drop' as const, { cutAfter: 3 }, { status: 503 }][index] });
    const id = await finishedJob(4);
    const told: string[] = [];
    const events = await collect(client.follow(id, { onOpen: () => told.push('open'), onError: (error) => told.push(`${error.code}: ${error.message}`) }));
    expect(events).toEqual(await server.log(id));
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([undefined, undefined, undefined, '3', '3']);
    // What a page shows meanwhile: each failure as it happens, each stream once it is open.
    expect(told).toEqual([
      `UNAVAILABLE: HTTP 502 from ${server.url}/jobs/${id}/events`,
      `UNAVAILABLE: Could not reach ${server.url}`,
      'open',
      `UNAVAILABLE: The event stream of /jobs/${id}/events was cut short`,
      `UNAVAILABLE: HTTP 503 from ${server.url}/jobs/${id}/events`,
      'open',
    ]);
  });

  it('a stream the server ends cleanly before the terminal event: reconnects at once without onError; a second one in a row without a new event is a failure', async () => {
    await setup({ faults: (_, index) => [{ endAfter: 2 }, { endAfter: 1 }, { endAfter: 0 }, { endAfter: 0 }][index] });
    const id = await finishedJob(4);
    const told: string[] = [];
    const events = await collect(client.follow(id, { onOpen: () => told.push('open'), onError: (error) => told.push(`${error.code}: ${error.message}`) }));
    expect(events).toEqual(await server.log(id));
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([undefined, '2', '3', '3', '3']);
    const closed = `UNAVAILABLE: The event stream of /jobs/${id}/events was closed before its end`;
    // Each stream that brought an event ends quietly; the ones after it that bring none are failures.
    expect(told).toEqual(['open', 'open', 'open', closed, 'open', closed, 'open']);
  });

  it('a stream that ends cleanly in the middle of a frame (a proxy) is cut short: onError, and the frame is not yielded', async () => {
    await setup({ faults: (_, index) => (index === 0 ? { endAfter: 2, midFrame: true } : undefined) });
    const id = await finishedJob(2);
    const told: string[] = [];
    const events = await collect(client.follow(id, { onOpen: () => told.push('open'), onError: (error) => told.push(error.message) }));
    expect(events).toEqual(await server.log(id));
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([undefined, '2']);
    expect(told).toEqual(['open', `The event stream of /jobs/${id}/events was cut short`, 'open']);
  });

  it('408 and 429 (a proxy, a rate limiter) reconnect, after Retry-After in seconds or as a date, capped at maxDelayMs', async () => {
    const inAnHour = new Date(Date.now() + 3_600_000).toUTCString();
    await setup({
      faults: (_, index) =>
        [
          { status: 429, headers: { 'retry-after': '0' } },
          { status: 408 },
          { status: 429, headers: { 'retry-after': '3600' } },
          { status: 429, headers: { 'retry-after': inAnHour } },
          { status: 503, headers: { 'retry-after': 'soon' } },
        ][index],
    });
    const id = await finishedJob(1);
    const told: unknown[] = [];
    const events = await collect(client.follow(id, { onError: (error) => told.push([error.code, error.details]) }));
    expect(events).toEqual(await server.log(id));
    expect(server.streams).toHaveLength(6);
    expect(told).toEqual([
      ['UNAVAILABLE', { status: 429 }],
      ['UNAVAILABLE', { status: 408 }],
      ['UNAVAILABLE', { status: 429 }],
      ['UNAVAILABLE', { status: 429 }],
      ['UNAVAILABLE', { status: 503 }],
    ]);
  });

  it('stops for good at the terminal event, even when the stream goes on with an end event', async () => {
    await setup({ routes: { sse: { retryMs: 5, endEvent: 'end' } } });
    const id = await finishedJob(1);
    const iterator = client.follow(id);
    const events = await collect({ [Symbol.asyncIterator]: () => iterator });
    expect(events.at(-1)?.type).toBe('completed');
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(server.streams).toHaveLength(1);
  });

  it('204 (the terminal event already seen) stops for good; lastEventId starts after that event', async () => {
    await setup();
    const id = await finishedJob(3);
    const log = await server.log(id);
    expect(await collect(client.follow(id, { lastEventId: log.at(-1)!.seq }))).toEqual([]);
    expect(server.streams).toEqual([{ path: `/jobs/${id}/events`, lastEventId: String(log.at(-1)!.seq) }]);
    expect(await collect(client.follow(id, { lastEventId: '3' }))).toEqual(log.slice(3));
  });

  it('an unknown job throws JOB_NOT_FOUND at once; a refusal throws FORBIDDEN; neither is asked again', async () => {
    await setup({ routes: { sse: { retryMs: 5 }, authorize: ({ request, action }) => action !== 'events' || request.headers.get('x-key') === 'yes' } });
    const unknown = await rejection(collect(client.follow('no-such-job')));
    expect(isJobwireError(unknown) && unknown.code).toBe('JOB_NOT_FOUND');
    expect((unknown as Error).message).toBe('Unknown job no-such-job');
    const id = await finishedJob(0);
    const refused = await rejection(collect(client.follow(id)));
    expect(isJobwireError(refused) && refused.code).toBe('FORBIDDEN');
    expect(server.streams).toHaveLength(2);
    const allowed = createJobClient({ baseUrl: server.url, headers: { 'x-key': 'yes' } });
    expect((await collect(allowed.follow(id))).map((event) => event.type)).toEqual(['queued', 'started', 'completed']);
  });

  it('a job removed while the client reconnects: JOB_NOT_FOUND after the events it had', async () => {
    await setup({ faults: (_, index) => (index === 0 ? { cutAfter: 2 } : undefined) });
    const job = await server.tracker.submit('controlled', {});
    await server.control.started(job.id);
    const events: JobEvent[] = [];
    const failure = await rejection(
      (async () => {
        for await (const event of client.follow(job.id)) {
          events.push(event);
          if (events.length === 2) {
            await server.tracker.cancel(job.id);
            await server.tracker.remove(job.id);
          }
        }
      })(),
    );
    expect(isJobwireError(failure) && failure.code).toBe('JOB_NOT_FOUND');
    expect(events.map((event) => event.type)).toEqual(['queued', 'started']);
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([undefined, '2']);
  });

  it('an answer that is not an event stream throws instead of reconnecting forever', async () => {
    const html = createJobClient({ baseUrl: 'http://app.test', fetch: async () => new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }) });
    const error = await rejection(collect(html.follow('abc')));
    expect(isJobwireError(error) && error.code).toBe('INVALID_REQUEST');
    expect((error as Error).message).toBe('Expected an event stream from /jobs/abc/events, got text/html');
  });

  it('abort, break and return() end it quietly and close the connection on the server', async () => {
    await setup();
    const job = await server.tracker.submit('controlled', {});
    await server.control.started(job.id);

    // abort while the client waits for the next event
    const controller = new AbortController();
    const seen: string[] = [];
    const reading = (async () => {
      for await (const event of client.follow(job.id, { signal: controller.signal })) seen.push(event.type);
    })();
    await until(() => seen.length === 2, 5_000, 'queued and started');
    expect(countOpenStreams(server.tracker)).toBe(1);
    controller.abort();
    await reading; // no rejection
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the server to close the stream');

    // break
    for await (const event of client.follow(job.id)) if (event.type === 'started') break;
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the server to close the stream after a break');

    // return() while a next() is pending: that next() resolves done
    const iterator = client.follow(job.id);
    expect((await iterator.next()).value?.type).toBe('queued');
    expect((await iterator.next()).value?.type).toBe('started');
    const pending = iterator.next();
    await until(() => countOpenStreams(server.tracker) === 1, 5_000, 'the stream to be open');
    expect(await iterator.return!()).toEqual({ done: true, value: undefined });
    expect(await pending).toEqual({ done: true, value: undefined });
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the server to close the stream after return()');

    // a signal aborted before the first next(): nothing is requested
    const before = server.streams.length;
    expect(await collect(client.follow(job.id, { signal: AbortSignal.abort() }))).toEqual([]);
    expect(server.streams).toHaveLength(before);
  });

  it('abort while waiting to reconnect ends it quietly', async () => {
    await setup({ faults: () => ({ status: 503 }) });
    const controller = new AbortController();
    const reading = collect(client.follow('any', { signal: controller.signal }));
    await until(() => server.streams.length >= 3, 5_000, 'a few refused connections');
    controller.abort();
    expect(await reading).toEqual([]);
  });
});
