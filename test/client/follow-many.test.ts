import { afterEach, describe, expect, it } from 'vitest';
import { createJobClient, isJobwireError, type JobClient, type JobEvent } from '../../src/client/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { collect, rejection, until } from '../helpers/deferred.js';
import { startJobServer, type JobServer, type JobServerOptions } from './server.js';

/** Following several jobs on one connection: `client.follow([ids])` on `GET /jobs/events?id=…`. */
describe('client.follow([ids])', () => {
  let server: JobServer;
  let client: JobClient;

  async function setup(options: JobServerOptions = {}): Promise<void> {
    server = await startJobServer(options);
    client = createJobClient({ baseUrl: server.url, reconnect: { initialDelayMs: 5, maxDelayMs: 50 } });
  }
  afterEach(() => server?.close());

  /** The events of `id` among `events`, in the order they came. */
  const of = (events: JobEvent[], id: string): JobEvent[] => events.filter((event) => event.jobId === id);

  /** A finished job whose log is queued, started, `chunks` outputs, completed. */
  async function finishedJob(chunks: number): Promise<string> {
    const job = await server.tracker.submit('controlled', {});
    const run = await server.control.started(job.id);
    for (let n = 1; n <= chunks; n++) run.ctx.write({ n });
    run.done.resolve({ chunks });
    await server.tracker.wait(job.id);
    return job.id;
  }

  /** The query ids of a stream request's path. */
  const idsOf = (path: string): string[] => new URL(path, 'http://x').searchParams.getAll('id');

  it('yields every event of every job, each job in order, and ends after the last terminal event, on one connection', async () => {
    await setup();
    const [a, b] = [await finishedJob(2), await finishedJob(3)];
    const events = await collect(client.follow([a, b, a]));
    expect(of(events, a)).toEqual(await server.log(a));
    expect(of(events, b)).toEqual(await server.log(b));
    expect(events).toHaveLength(11);
    expect(server.streams).toHaveLength(1);
    expect(idsOf(server.streams[0]!.path)).toEqual([a, b]); // duplicates asked for once
    expect(await collect(client.follow([]))).toEqual([]);
    expect(server.streams).toHaveLength(1);
  });

  it('live streams cut in the middle of a frame: nothing lost and nothing twice for any job; every reconnect sends each job’s cursor and leaves ended jobs out', async () => {
    await setup({ faults: () => ({ cutAfter: 3 }) });
    const jobs = await Promise.all([0, 1, 2].map(() => server.tracker.submit('controlled', {})));
    const runs = await Promise.all(jobs.map((job) => server.control.started(job.id)));
    // Job i writes 2 + 4i chunks, one more each time the client yields one of its events: the first ends early.
    const goal = jobs.map((_, index) => 2 + 4 * index);
    const written = jobs.map(() => 0);
    const events: JobEvent[] = [];
    for await (const event of client.follow(jobs.map((job) => job.id))) {
      events.push(event);
      const index = jobs.findIndex((job) => job.id === event.jobId);
      if (event.type !== 'started' && event.type !== 'output') continue;
      if (written[index]! < goal[index]!) runs[index]!.ctx.write({ n: ++written[index]! });
      else runs[index]!.done.resolve('done');
    }
    for (const job of jobs) expect(of(events, job.id)).toEqual(await server.log(job.id));

    expect(server.streams.length).toBeGreaterThan(5);
    // What each reconnect asked for: the jobs still live, each one's last seq seen before it.
    for (const [index, stream] of server.streams.entries()) {
      const before = events.slice(0, 3 * index);
      const live = jobs.map((job) => job.id).filter((id) => !before.some((event) => event.jobId === id && event.type === 'completed'));
      expect(idsOf(stream.path), `request ${index}`).toEqual(live);
      const cursors = live.flatMap((id) => {
        const last = of(before, id).at(-1);
        return last ? [`${id}:${last.seq}`] : [];
      });
      expect(stream.lastEventId, `request ${index}`).toBe(index === 0 ? undefined : cursors.join(','));
    }
    expect(idsOf(server.streams.at(-1)!.path)).toEqual([jobs[2]!.id]);
  });

  it('lastEventId takes each job’s cursor: a job without one starts from its first event; all at their ends is a 204 that stops for good', async () => {
    await setup();
    const [a, b] = [await finishedJob(2), await finishedJob(1)];
    const [logA, logB] = [await server.log(a), await server.log(b)];
    const events = await collect(client.follow([a, b], { lastEventId: `${a}:2` }));
    expect(of(events, a)).toEqual(logA.slice(2));
    expect(of(events, b)).toEqual(logB);
    expect(await collect(client.follow([a, b], { lastEventId: `${a}:${logA.length},${b}:${logB.length}` }))).toEqual([]);
    expect(server.streams.map((stream) => stream.lastEventId)).toEqual([`${a}:2`, `${a}:${logA.length},${b}:${logB.length}`]);
    const malformed = await rejection(collect(client.follow([a, b], { lastEventId: '12' })));
    expect(isJobwireError(malformed) && malformed.code).toBe('INVALID_REQUEST');
    expect(server.streams).toHaveLength(2);
  });

  it('a job whose cursor is at its terminal event: once the others end, one quiet reconnect (a 204) ends it, without onError', async () => {
    await setup();
    const [a, b] = [await finishedJob(1), await finishedJob(2)];
    const logA = await server.log(a);
    const told: string[] = [];
    const events = await collect(client.follow([a, b], { lastEventId: `${a}:${logA.length}`, onOpen: () => told.push('open'), onError: (error) => told.push(error.message) }));
    expect(events).toEqual(await server.log(b));
    expect(told).toEqual(['open']);
    expect(server.streams.map((stream) => [idsOf(stream.path), stream.lastEventId])).toEqual([
      [[a, b], `${a}:${logA.length}`],
      [[a], `${a}:${logA.length}`],
    ]);
  });

  it('an unknown job among them throws JOB_NOT_FOUND naming it, and is not asked again', async () => {
    await setup();
    const a = await finishedJob(0);
    const error = await rejection(collect(client.follow([a, 'no-such-job'])));
    expect(isJobwireError(error) && error.code).toBe('JOB_NOT_FOUND');
    expect((error as Error).message).toContain('no-such-job');
    expect(server.streams).toHaveLength(1);
  });

  it('a break or an abort closes the stream on the server', async () => {
    await setup();
    const jobs = await Promise.all([0, 1].map(() => server.tracker.submit('controlled', {})));
    await Promise.all(jobs.map((job) => server.control.started(job.id)));
    const ids = jobs.map((job) => job.id);
    let started = 0;
    for await (const event of client.follow(ids)) if (event.type === 'started' && ++started === 2) break;
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the server to close the stream after a break');

    const controller = new AbortController();
    const seen: JobEvent[] = [];
    const reading = (async () => {
      for await (const event of client.follow(ids, { signal: controller.signal })) seen.push(event);
    })();
    await until(() => seen.length === 4, 5_000, 'both jobs queued and started');
    controller.abort();
    await reading;
    await until(() => countOpenStreams(server.tracker) === 0, 5_000, 'the server to close the stream after an abort');
  });
});
