import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, isJobwireError, type JobClient, type JobStatusEvent } from '../../src/client/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { collect, deferred, rejection, until } from '../helpers/deferred.js';
import { count } from './plugins.js';
import { startJobServer, type JobServer, type JobServerOptions } from './server.js';

/** Watching a tenant's jobs: `client.watch(query)` on `GET /jobs/events?tenantId=…`, for a list page. */
describe('client.watch(query)', () => {
  let server: JobServer;
  let client: JobClient;

  async function setup(options: JobServerOptions = {}): Promise<void> {
    server = await startJobServer({ plugins: [count], ...options });
    client = createJobClient({ baseUrl: server.url, reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
  }
  afterEach(() => server?.close());

  it('the live status events of the matching jobs only (never output, never another tenant’s); onOpen once connected', async () => {
    await setup();
    let opens = 0;
    const controller = new AbortController();
    const events: JobStatusEvent[] = [];
    const watching = (async () => {
      for await (const event of client.watch({ tenantId: 'acme', plugin: 'count' }, { signal: controller.signal, onOpen: () => (opens += 1) })) events.push(event);
    })();
    await until(() => opens === 1, 5_000, 'the watch to open');
    const theirs = await server.tracker.submit('count', { to: 2 }, { tenantId: 'other' });
    const mine = await server.tracker.submit('count', { to: 3 }, { tenantId: 'acme' });
    await server.tracker.submit('controlled', {}, { tenantId: 'acme' });
    await Promise.all([server.tracker.wait(theirs.id), server.tracker.wait(mine.id)]);
    await until(() => events.some((event) => event.type === 'completed'), 5_000, 'the completed event');
    controller.abort();
    await watching;
    expect(events.map((event) => [event.jobId, event.type])).toEqual([
      [mine.id, 'queued'],
      [mine.id, 'started'],
      [mine.id, 'completed'],
    ]);
    expect(events.at(-1)?.job).toMatchObject({ status: 'completed', result: { counted: 3 } });
    expect(new URL(server.streams[0]!.path, server.url).search).toBe('?tenantId=acme&plugin=count');
    expect(server.streams[0]!.lastEventId).toBeUndefined(); // no replay: nothing to resume
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the stream to be freed');
  });

  it('a cut connection reconnects and calls onOpen again (when a list page re-reads the list); what happened while it was cut is not replayed', async () => {
    await setup({ faults: (_, index) => (index === 0 ? { cutAfter: 2 } : undefined) });
    let opens = 0;
    const events: JobStatusEvent[] = [];
    const iterator = client.watch({ status: ['queued', 'running', 'completed'] }, { onOpen: () => (opens += 1) });
    const reading = (async () => {
      for await (const event of { [Symbol.asyncIterator]: () => iterator }) events.push(event);
    })();
    await until(() => opens === 1, 5_000, 'the watch to open');
    const job = await server.tracker.submit('controlled', {});
    const run = await server.control.started(job.id);
    await until(() => events.length === 2, 5_000, 'queued and started');
    run.ctx.progress(50, 'half'); // the third frame: cut in its middle, so this event is lost with the connection
    await until(() => opens === 2, 5_000, 'the watch to reconnect');
    run.done.resolve('done');
    await until(() => events.length === 3, 5_000, 'the completed event');
    await iterator.return!();
    await reading;
    expect(events.map((event) => event.type)).toEqual(['queued', 'started', 'completed']);
    expect(server.streams.map((stream) => new URL(stream.path, server.url).search)).toEqual(['?status=queued%2Crunning%2Ccompleted', '?status=queued%2Crunning%2Ccompleted']);
  });

  it('a refused watch throws FORBIDDEN; a server that is down is told to onError; an abort meanwhile ends it quietly', async () => {
    await setup({ routes: { authorize: ({ action, query }) => action !== 'events' || query?.tenantId === 'acme' } });
    const refused = await rejection(collect(client.watch({ tenantId: 'other' })));
    expect(isJobwireError(refused) && refused.code).toBe('FORBIDDEN');
    await server.close();

    await setup({ faults: () => ({ status: 502 }) });
    const controller = new AbortController();
    const errors: unknown[] = [];
    const watching = collect(client.watch({}, { signal: controller.signal, onOpen: () => expect.unreachable('no 200, no onOpen'), onError: (error) => errors.push(error.details) }));
    await until(() => server.streams.length >= 3, 5_000, 'a few refused connections');
    controller.abort();
    expect(await watching).toEqual([]);
    expect(errors.slice(0, 2)).toEqual([{ status: 502 }, { status: 502 }]);
  });
});

/** A `fetch` that answers every request with an event stream that breaks at once, without an event (a proxy cutting an idle stream). */
function cuttingFetch(onRequest: (count: number) => void): typeof fetch {
  let count = 0;
  return async () => {
    onRequest(++count);
    const body = new ReadableStream<Uint8Array>({ start: (controller) => controller.error(new TypeError('terminated')) });
    return new Response(body, { headers: { 'content-type': 'text/event-stream' } });
  };
}

describe('the backoff of a quiet stream', () => {
  it('starts again at each connection the server opens: a quiet watch cut again and again does not climb to maxDelayMs', async () => {
    const reached = deferred();
    const client = createJobClient({ baseUrl: 'http://api.test', reconnect: { initialDelayMs: 5, maxDelayMs: 600_000 }, fetch: cuttingFetch((count) => count === 20 && reached.resolve()) });
    const controller = new AbortController();
    const watching = collect(client.watch({}, { signal: controller.signal }));
    // Doubling from 5 ms, the 20th connection would come after more than 40 minutes.
    await reached.promise;
    controller.abort();
    expect(await watching).toEqual([]);
  });

  it('never spins: connections that open and break at once are initialDelayMs apart, at least', async () => {
    const starts: number[] = [];
    const reached = deferred();
    const client = createJobClient({
      baseUrl: 'http://api.test',
      reconnect: { initialDelayMs: 20, maxDelayMs: 1_000 },
      fetch: cuttingFetch((count) => {
        starts.push(performance.now());
        if (count === 6) reached.resolve();
      }),
    });
    const controller = new AbortController();
    const watching = collect(client.watch({}, { signal: controller.signal }));
    await reached.promise;
    controller.abort();
    await watching;
    // Without the floor they would come a few milliseconds apart; allow a millisecond of rounding for each of the two clocks.
    for (let index = 1; index < starts.length; index++) expect(starts[index]! - starts[index - 1]!).toBeGreaterThanOrEqual(18);
  });
});
