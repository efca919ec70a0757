import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { isStatusEvent, JobTracker, LocalPluginManager, type JobEvent, type JobGapEvent, type JobOutputEvent, type JobStatusEvent } from '../../src/index.js';
import { countOpenStreams, openJobStream, type JobStream } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { collect, until } from '../helpers/deferred.js';
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
      serialize: (event) => (isStatusEvent(event) ? `<div id="job">\n  <b>${event.job.status}</b> ${event.job.progress}%\r\n</div>` : ''),
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
        const stream = await openJobStream(tracker, job.id, raw ? { serialize: (event) => (isStatusEvent(event) && event.type === 'progress' ? (event.job.message ?? '') : event.type) } : {});
        const reading = collect(stream);
        run.ctx.progress(50, message);
        run.done.resolve(null);
        const { events } = parseSSE(await reading);
        expect(events.map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'completed']);
        const progress = events[2]!.data;
        if (raw) expect(progress).toBe(message.replace(/\r\n|\r/g, '\n'));
        else expect((JSON.parse(progress) as JobStatusEvent).job.message).toBe(message);
      }),
      { numRuns: 200 },
    );
    await tracker.close();
  });
});

describe('openJobStream: output and gap events', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  function setup(outputLimitBytes?: number): void {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), ...(outputLimitBytes === undefined ? {} : { outputLimitBytes }) });
  }
  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  /** Every chunk of the output events, strings concatenated where a lagging reader got them merged. */
  const outputOf = (frames: string[]): unknown[] =>
    parseSSE(frames)
      .events.filter((e) => e.event === 'output')
      .map((e) => (JSON.parse(e.data) as JobOutputEvent).chunk);

  it('output events go out as `event: output` with their seq as id and the event as JSON data, in order with the status events', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.ctx.write({ start: 0, end: 1.5, text: 'Hello' });
    await until(async () => (await tracker.output(job.id)).chunks.length === 1, 5_000, 'the first chunk');
    run.ctx.progress(50, 'half');
    run.ctx.write('tail');
    run.done.resolve({ ok: true });
    await tracker.wait(job.id);
    const frames = await collect(await openJobStream(tracker, job.id));
    const { events } = parseSSE(frames);
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ['1', 'queued'],
      ['2', 'started'],
      ['3', 'output'],
      ['4', 'progress'],
      ['5', 'output'],
      ['6', 'completed'],
    ]);
    expect(JSON.parse(events[2]!.data)).toEqual({ seq: 3, type: 'output', jobId: job.id, at: expect.any(String) as unknown, chunk: { start: 0, end: 1.5, text: 'Hello' } });
    expect(JSON.parse(events[4]!.data)).toMatchObject({ seq: 5, type: 'output', chunk: 'tail' });
    expect(events[4]!.data).not.toContain('"job"'); // no snapshot on an output event
    // Last-Event-ID resumes output with the rest: after 3, the progress, the second chunk and the end.
    expect(ids(await collect(await openJobStream(tracker, job.id, { lastEventId: 3 })))).toEqual(['4', '5', '6']);
  });

  it('a live stream gets every chunk, in order: strings joined back give exactly what was written', async () => {
    const job = await tracker.submit('controlled', {});
    const stream = await openJobStream(tracker, job.id);
    const reading = collect(stream);
    const run = await control.started(job.id);
    const written: string[] = [];
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) {
        const chunk = `${round}.${i}${i % 7 === 0 ? '\n' : ' '}`;
        written.push(chunk);
        run.ctx.write(chunk);
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    run.done.resolve(null);
    const frames = await reading;
    expect(outputOf(frames).join('')).toBe(written.join(''));
    const seqs = parseSSE(frames).events.map((e) => Number(e.id));
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(types(frames).at(-1)).toBe('completed');
  });

  it('non-string chunks are never merged: each arrives as written', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const written = Array.from({ length: 200 }, (_, i) => (i % 3 === 0 ? { i } : i % 3 === 1 ? [i, null, true] : i));
    for (const chunk of written) run.ctx.write(chunk);
    run.done.resolve(null);
    await tracker.wait(job.id);
    expect(outputOf(await collect(await openJobStream(tracker, job.id)))).toEqual(written);
  });

  it('output dropped past outputLimitBytes replays as one `event: gap` at its toSeq, before the output kept', async () => {
    await tracker.close({ timeoutMs: 0 });
    setup(100);
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    for (let i = 0; i < 30; i++) {
      run.ctx.write(`chunk ${String(i).padStart(2, '0')} `); // 12 bytes of JSON each
      await new Promise((resolve) => setImmediate(resolve)); // one append each
    }
    run.done.resolve(null);
    await tracker.wait(job.id);
    const { events } = parseSSE(await collect(await openJobStream(tracker, job.id)));
    const gaps = events.filter((e) => e.event === 'gap');
    expect(gaps).toHaveLength(1);
    const gap = JSON.parse(gaps[0]!.data) as JobGapEvent;
    expect(gap).toMatchObject({ type: 'gap', jobId: job.id, fromSeq: 3, seq: gap.toSeq });
    expect(gaps[0]!.id).toBe(String(gap.toSeq));
    // A replay reads faster than the log was written: the kept strings may come merged (same text).
    expect(events.slice(0, 3).map((e) => e.event)).toEqual(['queued', 'started', 'gap']);
    expect(events.slice(3, -1).every((e) => e.event === 'output')).toBe(true);
    expect(events.at(-1)).toMatchObject({ event: 'completed', id: '33' });
    const kept = events.filter((e) => e.event === 'output').map((e) => (JSON.parse(e.data) as JobOutputEvent).chunk);
    expect(kept.join('')).toBe(Array.from({ length: 30 }, (_, i) => `chunk ${String(i).padStart(2, '0')} `).slice(gap.toSeq - 2).join(''));
    // Resuming inside the dropped range: the gap starts after what the client has; at its end, no gap.
    const inside = parseSSE(await collect(await openJobStream(tracker, job.id, { lastEventId: 5 }))).events;
    expect(JSON.parse(inside[0]!.data)).toMatchObject({ type: 'gap', fromSeq: 6, toSeq: gap.toSeq });
    expect(types(await collect(await openJobStream(tracker, job.id, { lastEventId: gap.toSeq })))[0]).toBe('output');
  });

  it('serialize and eventName get output and gap events too: an htmx page appends each chunk as a fragment', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.ctx.write({ start: 0, end: 2, text: 'a <b>' });
    await until(async () => (await tracker.output(job.id)).chunks.length === 1, 5_000, 'the first chunk');
    run.ctx.write({ start: 2, end: 3, text: 'line\nbreak' });
    run.done.resolve(null);
    await tracker.wait(job.id);
    const escape = (text: string): string => text.replace(/[&<>]/g, (c) => `&#${c.charCodeAt(0)};`);
    const seen: string[] = [];
    const stream = await openJobStream(tracker, job.id, {
      serialize: (event: JobEvent) => {
        seen.push(event.type);
        if (event.type === 'output') return `<p>${escape((event.chunk as { text: string }).text)}</p>`;
        return isStatusEvent(event) ? `<span>${event.job.status}</span>` : '';
      },
      eventName: (event) => (event.type === 'output' ? 'segment' : event.type),
      endEvent: 'end',
    });
    const { events } = parseSSE(await collect(stream));
    expect(seen).toEqual(['queued', 'started', 'output', 'output', 'completed']);
    expect(events.filter((e) => e.event === 'segment').map((e) => [e.id, e.data])).toEqual([
      ['3', '<p>a &#60;b&#62;</p>'],
      ['4', '<p>line\nbreak</p>'],
    ]);
    expect(events.at(-1)).toMatchObject({ event: 'end', data: 'completed' });
  });

  it('events already waiting go out as one string of frames (one write), bounded in size, each frame intact', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const written = Array.from({ length: 3_000 }, (_, i) => ({ i, text: `segment ${i}` }));
    for (const [i, chunk] of written.entries()) {
      run.ctx.write(chunk);
      if (i % 100 === 99) await new Promise((resolve) => setImmediate(resolve));
    }
    run.done.resolve(null);
    await tracker.wait(job.id);
    const frames = await collect(await openJobStream(tracker, job.id, { endEvent: 'end' }));
    expect(outputOf(frames)).toEqual(written);
    expect(types(frames).slice(-2)).toEqual(['completed', 'end']);
    // 3 003 events in far fewer strings; none much past the batch size (64 KiB) plus one frame.
    expect(frames.length).toBeLessThan(50);
    for (const frame of frames) expect(frame.length).toBeLessThan(64 * 1024 + 1_000);
    expect(frames.slice(1).every((frame) => frame.endsWith('\n\n'))).toBe(true);
  });
});
