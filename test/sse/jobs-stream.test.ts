import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobTracker, JobwireError, LocalPluginManager, type JobEvent, type JobGapEvent, type JobOutputEvent, type JobSnapshot } from '../../src/index.js';
import { countOpenStreams, openJobsStream, toSSEResponse, type JobsStream } from '../../src/sse/index.js';
import { MergedEvents } from '../../src/sse/merged-events.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { collect, until } from '../helpers/deferred.js';
import { codeOf } from '../helpers/codes.js';
import { parseSSE } from '../helpers/sse.js';

type Run = Awaited<ReturnType<ReturnType<typeof controlledPlugin>['started']>>;

const eventsOf = (frames: string[]): JobEvent[] => parseSSE(frames).events.filter((e) => e.id !== undefined).map((e) => JSON.parse(e.data) as JobEvent);
const idsOf = (frames: string[]): (string | undefined)[] => parseSSE(frames).events.map((e) => e.id);
const typesOf = (events: readonly JobEvent[], jobId: string): string[] => events.filter((e) => e.jobId === jobId).map((e) => e.type);

/** Read a stream in the background, frame by frame, so a test can look at what came so far. */
function reading(stream: JobsStream): { frames: string[]; done: Promise<void> } {
  const frames: string[] = [];
  const done = (async () => {
    for await (const frame of stream) frames.push(frame);
  })();
  return { frames, done };
}

describe('openJobsStream: several jobs', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  function setup(outputLimitBytes?: number): void {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), ...(outputLimitBytes === undefined ? {} : { outputLimitBytes }) });
  }
  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  async function started(): Promise<{ job: JobSnapshot; run: Run }> {
    const job = await tracker.submit('controlled', {});
    return { job, run: await control.started(job.id) };
  }

  /** A finished job: 1 queued, 2 started, 3 output 'x', 4 completed. */
  async function finished(): Promise<string> {
    const { job, run } = await started();
    run.ctx.write('x');
    run.done.resolve('ok');
    await tracker.wait(job.id);
    return job.id;
  }

  it('follows every job to its terminal event, then ends with one end event naming each ending', async () => {
    const [a, b, c] = await Promise.all([started(), started(), started()]);
    const stream = await openJobsStream(tracker, { ids: [a!.job.id, b!.job.id, c!.job.id], endEvent: 'end', retryMs: 1_500 });
    expect(stream.status).toBe(200);
    expect(stream.jobIds).toEqual([a!.job.id, b!.job.id, c!.job.id]);
    expect(countOpenStreams(tracker)).toBe(1);
    const { frames, done } = reading(stream);
    a!.run.done.resolve('a');
    await until(() => eventsOf(frames).some((e) => e.type === 'completed'), 5_000, 'a completed');
    b!.run.done.reject(new Error('b broke'));
    await tracker.wait(b!.job.id);
    expect(stream.closed).toBe(false); // c goes on
    await tracker.cancel(c!.job.id);
    await done;
    expect(frames[0]).toBe('retry: 1500\n\n');
    const events = eventsOf(frames);
    expect(typesOf(events, a!.job.id)).toEqual(['queued', 'started', 'completed']);
    expect(typesOf(events, b!.job.id)).toEqual(['queued', 'started', 'failed']);
    expect(typesOf(events, c!.job.id)).toEqual(['queued', 'started', 'cancelled']);
    const end = parseSSE(frames).events.at(-1)!;
    expect(end.event).toBe('end');
    expect(end.id).toBeUndefined();
    expect(JSON.parse(end.data)).toEqual({ [a!.job.id]: 'completed', [b!.job.id]: 'failed', [c!.job.id]: 'cancelled' });
    expect(stream.closed).toBe(true);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('ids are `<jobId>:<seq>`; each job resumes after its own cursor, from the start without one; repeats of an id count once', async () => {
    const a = await finished();
    const b = await finished();
    const all = await collect(await openJobsStream(tracker, { ids: [a, b, a] }));
    expect(idsOf(all).filter((id) => id?.startsWith(a))).toEqual([1, 2, 3, 4].map((seq) => `${a}:${seq}`));
    expect(idsOf(all).filter((id) => id?.startsWith(b))).toEqual([1, 2, 3, 4].map((seq) => `${b}:${seq}`));
    const resumed = await collect(await openJobsStream(tracker, { ids: [a, b], lastEventId: `${a}:2,${b}:3` }));
    expect(idsOf(resumed).sort()).toEqual([`${a}:3`, `${a}:4`, `${b}:4`].sort());
    expect(idsOf(resumed).filter((id) => id?.startsWith(a))).toEqual([`${a}:3`, `${a}:4`]); // each job in its order
    // One job seen to its end: only the other's events. A repeated pair keeps its greatest seq.
    const half = await collect(await openJobsStream(tracker, { ids: [a, b], lastEventId: ` ${b}:1 , ${b}:4 ` }));
    expect(idsOf(half)).toEqual([1, 2, 3, 4].map((seq) => `${a}:${seq}`));
  });

  it('a live job resumed after its cursor gets the rest of its log, then live events', async () => {
    const a = await started();
    const b = await finished();
    a.run.ctx.progress(20);
    await until(async () => (await tracker.get(a.job.id))?.progress === 20, 5_000, 'progress recorded');
    const stream = await openJobsStream(tracker, { ids: [a.job.id, b], lastEventId: `${a.job.id}:2,${b}:4` });
    const { frames, done } = reading(stream);
    await until(() => eventsOf(frames).length === 1, 5_000, 'the replayed progress');
    a.run.ctx.write('live');
    a.run.done.resolve(1);
    await done;
    expect(eventsOf(frames).map((e) => [e.jobId, e.seq, e.type])).toEqual([
      [a.job.id, 3, 'progress'],
      [a.job.id, 4, 'output'],
      [a.job.id, 5, 'completed'],
    ]);
  });

  it('204 when every job’s cursor is at or past its terminal event; 404 naming the first job that does not exist', async () => {
    const a = await finished();
    const b = await finished();
    const seen = await openJobsStream(tracker, { ids: [a, b], lastEventId: `${a}:4,${b}:40` });
    expect(seen.status).toBe(204);
    expect(seen.closed).toBe(true);
    expect(await collect(seen)).toEqual([]);
    for (const missing of ['AAAAAAAAAAAAAAAAAAAAAA', '../x']) {
      const stream = await openJobsStream(tracker, { ids: [a, missing, 'BBBBBBBBBBBBBBBBBBBBBB'] });
      expect(stream.status).toBe(404);
      expect(stream.missingJobId).toBe(missing);
      expect(await collect(stream)).toEqual([]);
      const response = toSSEResponse(stream);
      expect(response.status).toBe(404);
      expect(await response.json()).toEqual({ error: { code: 'JOB_NOT_FOUND', message: `Unknown job ${missing}`, details: { jobId: missing } } });
    }
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('refuses bad arguments with INVALID_REQUEST', async () => {
    const a = await finished();
    const tooMany = Array.from({ length: 101 }, (_, i) => `job${i}`);
    expect(await codeOf(openJobsStream(tracker, { ids: [] }))).toBe('INVALID_REQUEST');
    expect(await codeOf(openJobsStream(tracker, { ids: tooMany }))).toBe('INVALID_REQUEST');
    expect((await openJobsStream(tracker, { ids: [...tooMany.slice(0, 100), 'job0'] })).status).toBe(404); // 100 distinct
    expect(await codeOf(openJobsStream(tracker, { ids: [a, 5 as unknown as string] }))).toBe('INVALID_REQUEST');
    expect(await codeOf(openJobsStream(tracker, { ids: [a, ''] }))).toBe('INVALID_REQUEST'); // an empty id is no id, not an unknown job
    expect(await codeOf(openJobsStream(tracker, { ids: [a], query: {} }))).toBe('INVALID_REQUEST');
    for (const lastEventId of ['4', `${a}:x`, `${a}:-1`, `${a}:1,`, `${a}:1;x:2`, `${a}:${'9'.repeat(16)}`, `a b:1`]) {
      expect(await codeOf(openJobsStream(tracker, { ids: [a], lastEventId })), lastEventId).toBe('INVALID_REQUEST');
    }
    expect(await codeOf(openJobsStream(tracker, { ids: [a], heartbeatMs: 0 }))).toBe('INVALID_REQUEST');
    expect(await codeOf(openJobsStream(tracker, { ids: [a], endEvent: 'a\nb' }))).toBe('INVALID_REQUEST');
    const stream = await openJobsStream(tracker, { ids: [a] });
    await collect(stream);
    expect(await codeOf(collect(stream))).toBe('INVALID_REQUEST'); // read once
  });

  it('authorizeJob: asked once per job before anything is sent; a throw rejects with it, false with FORBIDDEN', async () => {
    const a = await finished();
    const b = await finished();
    const asked: string[] = [];
    const stream = await openJobsStream(tracker, { ids: [a, b], authorizeJob: (job) => void asked.push(job.id) });
    expect(asked.sort()).toEqual([a, b].sort());
    expect(eventsOf(await collect(stream))).toHaveLength(8);
    expect(await codeOf(openJobsStream(tracker, { ids: [a, b], authorizeJob: (job) => job.id === a }))).toBe('FORBIDDEN');
    const thrown = new Error('not yours');
    await expect(openJobsStream(tracker, { ids: [a, b], authorizeJob: async (job) => (job.id === b ? Promise.reject(thrown) : true) })).rejects.toBe(thrown);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('authorizeJob refusing with JOB_NOT_FOUND reads like a missing job wherever it stands: the first of either, in order, decides; other refusals come after', async () => {
    const a = await finished();
    const b = await finished();
    const fake = 'AAAAAAAAAAAAAAAAAAAAAA';
    const notYours = new JobwireError('JOB_NOT_FOUND', 'Unknown job');
    const asked: string[] = [];
    const hidingB = (job: JobSnapshot): boolean => {
      asked.push(job.id);
      if (job.id === b) throw notYours;
      return true;
    };
    // b stands before the fake: its refusal is what the caller gets, as if b were missing too.
    await expect(openJobsStream(tracker, { ids: [a, b, fake], authorizeJob: hidingB })).rejects.toBe(notYours);
    expect(asked.sort()).toEqual([a, b].sort()); // every job that exists is asked, though one is missing
    const missing = await openJobsStream(tracker, { ids: [a, fake, b], authorizeJob: hidingB });
    expect([missing.status, missing.missingJobId]).toEqual([404, fake]);
    // A refusal by `false` (or another throw) is a 403 only when no job is missing or hidden.
    const refusingA = (job: JobSnapshot): boolean => job.id !== a;
    const stillMissing = await openJobsStream(tracker, { ids: [a, fake], authorizeJob: refusingA });
    expect([stillMissing.status, stillMissing.missingJobId]).toEqual([404, fake]);
    expect(await codeOf(openJobsStream(tracker, { ids: [a, b], authorizeJob: refusingA }))).toBe('FORBIDDEN');
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('close() and an aborted signal free every job’s subscription at once', async () => {
    const a = await started();
    const b = await started();
    const controller = new AbortController();
    const stream = await openJobsStream(tracker, { ids: [a.job.id, b.job.id], signal: controller.signal });
    const { frames, done } = reading(stream);
    await until(() => eventsOf(frames).length === 4, 5_000, 'both started');
    controller.abort();
    await done;
    expect(stream.closed).toBe(true);
    expect(countOpenStreams(tracker)).toBe(0);
    const closed = await openJobsStream(tracker, { ids: [a.job.id], signal: controller.signal });
    expect(closed.closed).toBe(true);
    expect(await collect(closed)).toEqual([]);
    const other = await openJobsStream(tracker, { ids: [a.job.id, b.job.id] });
    other.close();
    other.close();
    expect(await collect(other)).toEqual([]);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('toSSEResponse: a web Response of the frames; cancelling its body (the client left) closes the stream', async () => {
    const a = await started();
    const b = await finished();
    const response = toSSEResponse(await openJobsStream(tracker, { ids: [a.job.id, b] }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    let text = '';
    while (!text.includes(`id: ${b}:4`)) {
      const next = await reader.read();
      if (next.done) throw new Error(`the stream ended early: ${text}`);
      text += next.value;
    }
    expect(countOpenStreams(tracker)).toBe(1);
    await reader.cancel();
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('a reader that does not read holds no more than each job’s own bound: past outputLimitBytes a job gets a gap, and the rest arrives intact', async () => {
    await tracker.close({ timeoutMs: 0 });
    setup(200);
    const a = await started();
    const b = await started();
    const stream = await openJobsStream(tracker, { ids: [a.job.id, b.job.id] });
    const frames = stream[Symbol.asyncIterator]();
    await frames.next(); // retry: the stream is open, its events not read
    const written = (job: string) => Array.from({ length: 200 }, (_, i) => `${job}${String(i).padStart(3, '0')} `);
    for (const [run, chunks] of [
      [a.run, written('a')],
      [b.run, written('b')],
    ] as const) {
      for (const chunk of chunks) {
        run.ctx.write(chunk);
        await new Promise((resolve) => setImmediate(resolve)); // one append each
      }
    }
    a.run.done.resolve(1);
    b.run.done.resolve(1);
    await Promise.all([tracker.wait(a.job.id), tracker.wait(b.job.id)]);
    const rest: string[] = [];
    for (let next = await frames.next(); !next.done; next = await frames.next()) rest.push(next.value);
    const events = eventsOf(rest);
    for (const [job, chunks] of [
      [a.job.id, written('a')],
      [b.job.id, written('b')],
    ] as const) {
      const mine = events.filter((e) => e.jobId === job);
      const gaps = mine.filter((e): e is JobGapEvent => e.type === 'gap');
      expect(gaps.length, job).toBeGreaterThan(0);
      const text = mine
        .filter((e): e is JobOutputEvent => e.type === 'output')
        .map((e) => e.chunk)
        .join('');
      expect(text.length, job).toBeLessThan(chunks.join('').length);
      expect(chunks.join('').endsWith(text), job).toBe(true); // the newest output, whole
      expect(mine.at(-1)?.type).toBe('completed');
    }
  });

  it('events already waiting go out together: a replay of several jobs takes a few writes, each frame intact', async () => {
    const ids = await Promise.all(
      Array.from({ length: 10 }, async () => {
        const { job, run } = await started();
        for (let i = 0; i < 50; i++) run.ctx.write({ i });
        run.done.resolve(null);
        await tracker.wait(job.id);
        return job.id;
      }),
    );
    const frames = await collect(await openJobsStream(tracker, { ids }));
    const events = eventsOf(frames);
    expect(events).toHaveLength(10 * 53);
    for (const id of ids) expect(events.filter((e) => e.jobId === id && e.type === 'output').map((e) => (e as JobOutputEvent).chunk)).toEqual(Array.from({ length: 50 }, (_, i) => ({ i })));
    expect(frames.length).toBeLessThan(20);
    expect(frames.slice(1).every((frame) => frame.endsWith('\n\n'))).toBe(true);
  });
});

describe('openJobsStream: tenant-wide', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  beforeEach(() => {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
  });
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  it('live status events of matching jobs only, with `<jobId>:<seq>` ids; output never; no replay', async () => {
    const old = await tracker.submit('controlled', {}, { tenantId: 'acme', workspaceId: 'w' });
    const oldRun = await control.started(old.id);
    const stream = await openJobsStream(tracker, { query: { tenantId: 'acme', workspaceId: 'w' }, lastEventId: 'ignored' });
    expect(stream.jobIds).toEqual([]);
    const { frames } = reading(stream);
    const other = await tracker.submit('controlled', {}, { tenantId: 'acme', workspaceId: 'x' });
    const job = await tracker.submit('controlled', {}, { tenantId: 'acme', workspaceId: 'w' });
    const run = await control.started(job.id);
    (await control.started(other.id)).done.resolve(1);
    run.ctx.write('never sent');
    run.ctx.progress(50);
    oldRun.ctx.progress(50); // matches, but the stream never met it: its events from now on go out
    run.done.resolve('ok');
    await until(() => eventsOf(frames).some((e) => e.type === 'completed') && eventsOf(frames).some((e) => e.jobId === old.id), 5_000, 'the job completed');
    const events = eventsOf(frames);
    expect(typesOf(events, job.id)).toEqual(['queued', 'started', 'progress', 'completed']);
    expect(typesOf(events, old.id)).toEqual(['progress']);
    expect(typesOf(events, other.id)).toEqual([]);
    expect(idsOf(frames)).toEqual(events.map((e) => `${e.jobId}:${e.seq}`));
    expect(stream.closed).toBe(false);
    stream.close();
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('status filters a job in; once met, the job is followed to its terminal event', async () => {
    const stream = await openJobsStream(tracker, { query: { status: 'running' } });
    const { frames } = reading(stream);
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.done.resolve(1);
    await until(() => eventsOf(frames).some((e) => e.type === 'completed'), 5_000, 'the job completed');
    expect(typesOf(eventsOf(frames), job.id)).toEqual(['started', 'completed']); // queued did not match yet
    stream.close();
  });

  it('authorizeJob: once per job, before its first event; false or a throw skips the job and keeps the stream going', async () => {
    const asked: string[] = [];
    const stream = await openJobsStream(tracker, {
      authorizeJob: async (job) => {
        asked.push(job.id);
        if (job.tenantId === 'throws') throw new Error('no');
        return job.tenantId === 'acme';
      },
    });
    const { frames } = reading(stream);
    const refused = await tracker.submit('controlled', {}, { tenantId: 'evil' });
    const throwing = await tracker.submit('controlled', {}, { tenantId: 'throws' });
    const allowed = await tracker.submit('controlled', {}, { tenantId: 'acme' });
    for (const job of [refused, throwing, allowed]) {
      const run = await control.started(job.id);
      run.ctx.progress(10);
      run.done.resolve(1);
      await tracker.wait(job.id);
    }
    await until(() => eventsOf(frames).some((e) => e.type === 'completed'), 5_000, 'the allowed job');
    expect(eventsOf(frames).map((e) => [e.jobId, e.type])).toEqual(['queued', 'started', 'progress', 'completed'].map((type) => [allowed.id, type]));
    expect(asked).toEqual([refused.id, throwing.id, allowed.id]);
    stream.close();
  });

  it('a slow reader keeps only each job’s newest progress; past maxWaitingEvents the stream ends', async () => {
    const stream = await openJobsStream(tracker, { maxWaitingEvents: 6 });
    const frames = stream[Symbol.asyncIterator]();
    await frames.next(); // retry; nothing read after it
    const a = await tracker.submit('controlled', {});
    const b = await tracker.submit('controlled', {});
    const runA = await control.started(a.id);
    const runB = await control.started(b.id);
    for (let p = 1; p <= 50; p++) {
      runA.ctx.progress(p);
      runB.ctx.progress(p);
    }
    await until(async () => (await tracker.get(b.id))?.progress === 50, 5_000, 'the last progress');
    const batch = await frames.next();
    const events = eventsOf([batch.value as string]);
    for (const id of [a.id, b.id]) {
      expect(typesOf(events, id)).toEqual(['queued', 'started', 'progress']);
      expect(events.filter((e) => e.jobId === id && e.type === 'progress').map((e) => (e.type === 'progress' ? e.job.progress : undefined))).toEqual([50]);
    }
    // Six events wait now (the bound): one more, and the stream gives up on this reader.
    const c = await tracker.submit('controlled', {});
    for (let i = 0; i < 6; i++) await tracker.submit('controlled', {});
    await control.started(c.id);
    const after = await collect({ [Symbol.asyncIterator]: () => frames });
    expect(eventsOf(after).length).toBeLessThanOrEqual(6);
    expect(stream.closed).toBe(true);
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('refuses limit, cursor, a bad status and a bad bound with INVALID_REQUEST', async () => {
    for (const query of [{ limit: 5 }, { cursor: 'x' }, { status: 'bogus' }, { tenantId: 5 }] as never[]) {
      expect(await codeOf(openJobsStream(tracker, { query })), JSON.stringify(query)).toBe('INVALID_REQUEST');
    }
    for (const maxWaitingEvents of [0, 1.5, -1]) expect(await codeOf(openJobsStream(tracker, { maxWaitingEvents }))).toBe('INVALID_REQUEST');
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('the tracker’s close ends it, read or not, and frees its listeners; on a closing or closed tracker it is CLOSED', async () => {
    const on = vi.spyOn(tracker, 'on');
    const off = vi.spyOn(tracker, 'off');
    const stream = await openJobsStream(tracker, { query: { tenantId: 'acme' } });
    const { done } = reading(stream);
    const unread = await openJobsStream(tracker, {});
    const job = await tracker.submit('controlled', {}, { tenantId: 'acme' });
    await control.started(job.id);
    expect(countOpenStreams(tracker)).toBe(2);
    const closing = tracker.close({ timeoutMs: 0 });
    expect(await codeOf(openJobsStream(tracker, { query: { tenantId: 'acme' } }))).toBe('CLOSED');
    await done;
    expect([stream.closed, unread.closed]).toEqual([true, true]);
    expect(countOpenStreams(tracker)).toBe(0);
    const listeners = (calls: unknown[][]) => calls.map(([type, listener]) => [type, listener]);
    expect(listeners(off.mock.calls)).toEqual(listeners(on.mock.calls));
    await closing;
    expect(await codeOf(openJobsStream(tracker, {}))).toBe('CLOSED');
    expect(await codeOf(openJobsStream(tracker, { query: { limit: 5 } as never }))).toBe('INVALID_REQUEST'); // arguments first, as for the other streams
    expect(countOpenStreams(tracker)).toBe(0);
  });

  it('close() stops listening to the tracker', async () => {
    const on = vi.spyOn(tracker, 'on');
    const off = vi.spyOn(tracker, 'off');
    const stream = await openJobsStream(tracker, {});
    const listened = on.mock.calls.map(([type]) => type).sort();
    expect(listened).toEqual(['job:cancelled', 'job:completed', 'job:failed', 'job:progress', 'job:queued', 'job:removed', 'job:retrying', 'job:started']);
    stream.close();
    expect(off.mock.calls.map(([type, listener]) => [type, listener])).toEqual(on.mock.calls.map(([type, listener]) => [type, listener]));
  });
});

describe('openJobsStream: heartbeats and timers', () => {
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

  it('a heartbeat after every heartbeatMs of silence, one timer per stream, freed on close', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    const timersBefore = vi.getTimerCount();
    for (const stream of [await openJobsStream(tracker, { ids: [job.id], heartbeatMs: 1_000 }), await openJobsStream(tracker, { heartbeatMs: 1_000 })]) {
      const { frames, done } = reading(stream);
      await vi.advanceTimersByTimeAsync(0);
      expect(vi.getTimerCount()).toBe(timersBefore + 1);
      await vi.advanceTimersByTimeAsync(999);
      expect(parseSSE(frames).comments).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(parseSSE(frames).comments).toEqual(['heartbeat']);
      run.ctx.progress(10); // an event restarts the silence
      await vi.advanceTimersByTimeAsync(999);
      expect(parseSSE(frames).comments).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(parseSSE(frames).comments).toHaveLength(2);
      stream.close();
      await done;
      expect(vi.getTimerCount()).toBe(timersBefore);
    }
    expect(countOpenStreams(tracker)).toBe(0);
  });
});

describe('MergedEvents', () => {
  /** A job's iterator driven by hand: `give` an event, `end` it, `fail` it; counts the `next()` calls. */
  function channel(jobId: string) {
    const waiting: { resolve: (result: IteratorResult<JobEvent>) => void; reject: (error: unknown) => void }[] = [];
    const buffered: (IteratorResult<JobEvent> | { error: unknown })[] = [];
    let seq = 0;
    const settle = (item: IteratorResult<JobEvent> | { error: unknown }): void => {
      const waiter = waiting.shift();
      if (!waiter) buffered.push(item);
      else if ('error' in item) waiter.reject(item.error);
      else waiter.resolve(item);
    };
    const events: AsyncIterator<JobEvent> & { calls: number; returned: boolean } = {
      calls: 0,
      returned: false,
      next() {
        this.calls++;
        const item = buffered.shift();
        if (item) return 'error' in item ? Promise.reject(item.error) : Promise.resolve(item);
        return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
      },
      async return() {
        this.returned = true;
        return { done: true, value: undefined };
      },
    };
    return {
      part: { jobId, events },
      events,
      give: (type: 'progress' | 'completed') =>
        settle({ done: false, value: { seq: ++seq, type, jobId, at: '', job: { status: type === 'completed' ? 'completed' : 'running' } } as JobEvent }),
      end: () => settle({ done: true, value: undefined }),
      fail: (error: unknown) => settle({ error }),
    };
  }

  it('asks each job for one event at a time, ends each after its terminal event, and ends once every job has', async () => {
    const a = channel('a');
    const b = channel('b');
    const merged = new MergedEvents([a.part, b.part]);
    expect([a.events.calls, b.events.calls]).toEqual([1, 1]);
    a.give('progress');
    a.give('progress'); // waits in a's own iterator: the merge holds one per job
    await new Promise((resolve) => setImmediate(resolve));
    expect(a.events.calls).toBe(1);
    expect((await merged.next()).value).toMatchObject({ jobId: 'a', seq: 1 });
    expect(a.events.calls).toBe(2);
    expect((await merged.next()).value).toMatchObject({ jobId: 'a', seq: 2 });
    const pending = merged.next();
    a.give('completed');
    expect((await pending).value).toMatchObject({ jobId: 'a', type: 'completed' });
    expect(a.events.returned).toBe(true);
    expect(merged.over).toBe(false);
    b.give('completed');
    expect((await merged.next()).value).toMatchObject({ jobId: 'b', type: 'completed' });
    expect(merged.over).toBe(true);
    expect(await merged.next()).toEqual({ done: true, value: undefined });
    expect([...merged.ended]).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
    ]);
  });

  it('a job whose iterator ends without a terminal event, or that is gone (JOB_NOT_FOUND), leaves without an ending; another error ends the merge with it', async () => {
    const a = channel('a');
    const b = channel('b');
    const merged = new MergedEvents([a.part, b.part]);
    a.end();
    b.fail(new JobwireError('JOB_NOT_FOUND', 'gone'));
    expect(await merged.next()).toEqual({ done: true, value: undefined });
    expect(merged.ended.size).toBe(0);

    const c = channel('c');
    const d = channel('d');
    const failing = new MergedEvents([c.part, d.part]);
    const pending = failing.next();
    const broken = new JobwireError('UNAVAILABLE', 'store down');
    c.fail(broken);
    await expect(pending).rejects.toBe(broken);
    expect(d.events.returned).toBe(true);
    expect(await failing.next()).toEqual({ done: true, value: undefined });
  });

  it('return() ends a pending next() and frees every job at once', async () => {
    const a = channel('a');
    const b = channel('b');
    const merged = new MergedEvents([a.part, b.part]);
    const pending = merged.next();
    await merged.return();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect([a.events.returned, b.events.returned]).toEqual([true, true]);
  });
});
