import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobTracker, LocalPluginManager, type JobEvent } from '../../src/index.js';
import { countOpenStreams, openJobStream, type JobStream } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { collect } from '../helpers/deferred.js';
import { parseSSE } from '../helpers/sse.js';
import { codeOf } from '../helpers/codes.js';

const types = (frames: string[]): (string | undefined)[] => parseSSE(frames).events.map((e) => e.event);
const ids = (frames: string[]): (string | undefined)[] => parseSSE(frames).events.map((e) => e.id);

describe('openJobStream', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  beforeEach(() => {
    vi.useFakeTimers();
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
  });
  afterEach(async () => {
    const closing = tracker.close({ timeoutMs: 0 });
    await vi.runAllTimersAsync();
    await closing;
    vi.useRealTimers();
  });

  /**
   * A job run to completion with two progress reports: seqs 1 queued, 2 started, 3-4 progress,
   * 5 completed. Replay coalesces consecutive progress, so a reader from the start sees 1, 2, 4, 5.
   */
  async function finishedJob(): Promise<string> {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.ctx.progress(30, 'a');
    await vi.advanceTimersByTimeAsync(0);
    run.ctx.progress(60, 'b');
    run.done.resolve({ ok: true });
    await tracker.wait(job.id);
    return job.id;
  }

  it('404 for an unknown or malformed id, with no frames', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', '../../etc/passwd', '']) {
      const stream = await openJobStream(tracker, id);
      expect(stream.status).toBe(404);
      expect(stream.closed).toBe(true);
      expect(await collect(stream)).toEqual([]);
    }
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('a live job: retry first, then every event with its seq as id, ending after the terminal event', async () => {
    const job = await tracker.submit('controlled', {});
    const stream = await openJobStream(tracker, job.id, { retryMs: 1500 });
    expect(stream.status).toBe(200);
    expect(countOpenStreams(tracker)).toBe(1);
    const reading = collect(stream);
    const run = await control.started(job.id);
    run.ctx.progress(50, 'half');
    await vi.advanceTimersByTimeAsync(0);
    run.done.resolve({ text: 'hi' });
    const frames = await reading;
    expect(frames[0]).toBe('retry: 1500\n\n');
    const { events } = parseSSE(frames);
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ['1', 'queued'],
      ['2', 'started'],
      ['3', 'progress'],
      ['4', 'completed'],
    ]);
    const last = JSON.parse(events[3]!.data) as JobEvent;
    expect(last).toMatchObject({ seq: 4, type: 'completed', jobId: job.id, job: { status: 'completed', progress: 100, result: { text: 'hi' } } });
    expect(stream.closed).toBe(true);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('Last-Event-ID n replays exactly the events after n, then goes live', async () => {
    const id = await finishedJob();
    const replays: Record<number, string[]> = { 0: ['1', '2', '4', '5'], 1: ['2', '4', '5'], 2: ['4', '5'], 3: ['4', '5'], 4: ['5'] };
    for (const [n, expected] of Object.entries(replays)) {
      const stream = await openJobStream(tracker, id, { lastEventId: n });
      expect(stream.status).toBe(200);
      expect(ids(await collect(stream)), `after ${n}`).toEqual(expected);
    }
    // Live job: replay after 1, then live events follow.
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const stream = await openJobStream(tracker, job.id, { lastEventId: 1 });
    const reading = collect(stream);
    run.done.resolve(1);
    expect(types(await reading)).toEqual(['started', 'completed']);
  });

  it('204 when Last-Event-ID is the terminal event: EventSource must stop reconnecting', async () => {
    const id = await finishedJob();
    const stream = await openJobStream(tracker, id, { lastEventId: '5' });
    expect(stream.status).toBe(204);
    expect(await collect(stream)).toEqual([]);
    expect((await openJobStream(tracker, id, { lastEventId: 99 })).status).toBe(204);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('refuses malformed Last-Event-ID and delays with INVALID_REQUEST', async () => {
    const id = await finishedJob();
    for (const lastEventId of ['abc', '-1', '1.5', '1e3', '9'.repeat(16)]) {
      expect(await codeOf(openJobStream(tracker, id, { lastEventId })), lastEventId).toBe('INVALID_REQUEST');
    }
    for (const heartbeatMs of [0, -5, 1.5, Number.NaN, 2 ** 31]) expect(await codeOf(openJobStream(tracker, id, { heartbeatMs }))).toBe('INVALID_REQUEST');
    expect(await codeOf(openJobStream(tracker, id, { retryMs: 0 }))).toBe('INVALID_REQUEST');
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('sends a heartbeat comment after every heartbeatMs of silence, and only then', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const stream = await openJobStream(tracker, job.id, { heartbeatMs: 1_000 });
    const frames: string[] = [];
    const reading = (async () => {
      for await (const frame of stream) frames.push(frame);
    })();
    await vi.advanceTimersByTimeAsync(999);
    expect(parseSSE(frames).comments).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(parseSSE(frames).comments).toEqual(['heartbeat']);
    await vi.advanceTimersByTimeAsync(600);
    run.ctx.progress(10); // an event restarts the silence
    await vi.advanceTimersByTimeAsync(999);
    expect(parseSSE(frames).comments).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(parseSSE(frames).comments).toHaveLength(2);
    run.done.resolve(1);
    await reading;
    expect(types(frames)).toEqual(['queued', 'started', 'progress', 'completed']);
  });

  it('close() while waiting ends the iterator at once and frees its timer and subscription', async () => {
    const job = await tracker.submit('controlled', {});
    await control.started(job.id);
    const timersBefore = vi.getTimerCount();
    const stream = await openJobStream(tracker, job.id, { heartbeatMs: 60_000 });
    const reading = collect(stream);
    await vi.advanceTimersByTimeAsync(0);
    expect(vi.getTimerCount()).toBe(timersBefore + 1); // the heartbeat timer
    stream.close();
    stream.close(); // twice is fine
    expect(types(await reading)).toEqual(['queued', 'started']);
    expect(stream.closed).toBe(true);
    expect(vi.getTimerCount()).toBe(timersBefore);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('an aborted signal closes the stream; an already aborted one opens it closed', async () => {
    const job = await tracker.submit('controlled', {});
    await control.started(job.id);
    const controller = new AbortController();
    const stream = await openJobStream(tracker, job.id, { signal: controller.signal });
    const reading = collect(stream);
    await vi.advanceTimersByTimeAsync(0);
    controller.abort();
    expect(types(await reading)).toEqual(['queued', 'started']);
    expect(countOpenStreams(tracker)).toBe(0);
    const late = await openJobStream(tracker, job.id, { signal: controller.signal });
    expect(late.closed).toBe(true);
    expect(await collect(late)).toEqual([]);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('serialize sends HTML fragments (htmx SSE extension), multi-line text split safely', async () => {
    const id = await finishedJob();
    const stream = await openJobStream(tracker, id, {
      serialize: (event) => `<div id="job">\n  <b>${event.job.status}</b> ${event.job.progress}%\r\n</div>`,
    });
    const { events } = parseSSE(await collect(stream));
    expect(events.map((e) => e.data)).toEqual(
      ['queued 0', 'running 0', 'running 60', 'completed 100'].map((s) => {
        const [status, progress] = s.split(' ');
        return `<div id="job">\n  <b>${status}</b> ${progress}%\n</div>`;
      }),
    );
  });

  it('endEvent: one more event of that name after every terminal event, carrying the status and no id', async () => {
    const endings: [string, (run: Awaited<ReturnType<typeof control.started>>, id: string) => Promise<unknown>][] = [
      ['completed', async (run) => run.done.resolve('ok')],
      ['failed', async (run) => run.done.reject(new Error('boom'))],
      ['cancelled', async (_run, id) => tracker.cancel(id)],
    ];
    for (const [status, end] of endings) {
      const job = await tracker.submit('controlled', {});
      const run = await control.started(job.id);
      const stream = await openJobStream(tracker, job.id, { endEvent: 'end' });
      const reading = collect(stream);
      await vi.advanceTimersByTimeAsync(0);
      await end(run, job.id);
      const { events } = parseSSE(await reading);
      expect(events.map((e) => [e.event, e.id]), status).toEqual([
        ['queued', '1'],
        ['started', '2'],
        [status, '3'],
        ['end', undefined],
      ]);
      expect(events[3]!.data).toBe(status);
      // The replay of a finished job ends the same way; a client that saw the end gets 204 and nothing.
      expect(types(await collect(await openJobStream(tracker, job.id, { endEvent: 'end', lastEventId: 2 })))).toEqual([status, 'end']);
      expect((await openJobStream(tracker, job.id, { endEvent: 'end', lastEventId: 3 })).status).toBe(204);
    }
    for (const endEvent of ['', 'a\nb', 'x\r', 'nul\0']) expect(await codeOf(openJobStream(tracker, 'any', { endEvent })), JSON.stringify(endEvent)).toBe('INVALID_REQUEST');
  });

  it('eventName names (or, returning undefined, leaves unnamed) each job event; the end event keeps its name', async () => {
    const id = await finishedJob();
    const stream = await openJobStream(tracker, id, { eventName: (event) => (event.type === 'progress' ? 'tick' : undefined), endEvent: 'end' });
    const frames = await collect(stream);
    expect(frames[1]).toMatch(/^id: 1\ndata: \{"seq":1,/); // no `event:` line at all
    expect(parseSSE(frames).events.map((e) => [e.event, e.id])).toEqual([
      [undefined, '1'],
      [undefined, '2'],
      ['tick', '4'],
      [undefined, '5'],
      ['end', undefined],
    ]);
  });

  it('job: the stream starts from a snapshot the caller already read, without reading the job again', async () => {
    const id = await finishedJob();
    const job = await tracker.get(id);
    const get = vi.spyOn(tracker, 'get');
    const stream = await openJobStream(tracker, id, { job: job! });
    expect(types(await collect(stream))).toEqual(['queued', 'started', 'progress', 'completed']);
    const live = await tracker.submit('controlled', {});
    const run = await control.started(live.id);
    const reading = collect(await openJobStream(tracker, live.id, { job: live }));
    run.done.resolve(1);
    expect(types(await reading)).toEqual(['queued', 'started', 'completed']);
    expect(get).not.toHaveBeenCalled();
    expect(await codeOf(openJobStream(tracker, live.id, { job: job! }))).toBe('INVALID_REQUEST');
  });

  it('a stream can be read once', async () => {
    const id = await finishedJob();
    const stream: JobStream = await openJobStream(tracker, id);
    await collect(stream);
    expect(await codeOf(collect(stream))).toBe('INVALID_REQUEST');
  });

  it('a cancelled job ends its stream with the cancelled event', async () => {
    const job = await tracker.submit('controlled', {});
    await control.started(job.id);
    const stream = await openJobStream(tracker, job.id);
    const reading = collect(stream);
    await tracker.cancel(job.id, 'stop');
    const frames = await reading;
    expect(types(frames)).toEqual(['queued', 'started', 'cancelled']);
    expect(countOpenStreams(tracker)).toBe(0);
  });
});

describe('openJobStream: progress messages reach an independent parser intact', () => {
  it('property: any message, JSON by default or raw through serialize, arrives as one event', async () => {
    const control = controlledPlugin();
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
    const text = fc
      .array(fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('\r', '\n', '\r\n', '\0', 'data: x', 'event: done', 'id: 99', '\n\nretry: 1\n\n')), { maxLength: 8 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(text, fc.boolean(), async (message, raw) => {
        const job = await tracker.submit('controlled', {});
        const run = await control.started(job.id);
        const stream = await openJobStream(tracker, job.id, raw ? { serialize: (event) => (event.type === 'progress' ? (event.job.message ?? '') : event.type) } : {});
        const reading = collect(stream);
        run.ctx.progress(50, message);
        run.done.resolve(null);
        const { events } = parseSSE(await reading);
        expect(events.map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'completed']);
        const progress = events[2]!.data;
        if (raw) expect(progress).toBe(message.replace(/\r\n|\r/g, '\n'));
        else expect((JSON.parse(progress) as JobEvent).job.message).toBe(message);
      }),
      { numRuns: 200 },
    );
    await tracker.close();
  });
});
