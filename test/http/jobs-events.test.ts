import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, JobwireError, LocalPluginManager, type JobEvent, type JobOutputEvent, type JobSnapshot } from '../../src/index.js';
import { createJobRoutes, toNodeHandler, type AuthorizeContext, type JobRoutesOptions } from '../../src/http/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseSSE } from '../helpers/sse.js';

const echo = definePlugin({ name: 'echo', input: z.object({ text: z.string() }), run: async (input) => ({ text: input.text }) });

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

/** An SSE response read as it arrives, parsed by eventsource-parser; `abort()` leaves like a client that goes away. */
interface LiveReader {
  status: number;
  events: EventSourceMessage[];
  /** Resolves when the server ended the response (not on abort). */
  ended: Promise<void>;
  abort(): void;
}

/** The JSON event of a frame. */
const eventOf = (message: EventSourceMessage): JobEvent => JSON.parse(message.data) as JobEvent;

/** The frames about one job. */
const framesOf = (events: readonly EventSourceMessage[], jobId: string): EventSourceMessage[] => events.filter((e) => e.id?.startsWith(`${jobId}:`));

/** `Last-Event-ID` as `jobwire/client` sends it: each job's last seq, from the frame ids. */
function cursorsOf(events: readonly EventSourceMessage[]): string {
  const last = new Map<string, number>();
  for (const { id } of events) {
    if (id === undefined) continue;
    const at = id.lastIndexOf(':');
    last.set(id.slice(0, at), Number(id.slice(at + 1)));
  }
  return [...last].map(([jobId, seq]) => `${jobId}:${seq}`).join(',');
}

describe('GET /jobs/events', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let server: TestServer;
  const readers: LiveReader[] = [];

  async function setup(options: JobRoutesOptions = {}): Promise<void> {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin) });
    server = await startServer(toNodeHandler(createJobRoutes(tracker, options)));
  }

  beforeEach(() => setup());
  afterEach(async () => {
    for (const reader of readers.splice(0)) reader.abort();
    await tracker.close({ timeoutMs: 0 });
    await server.close();
  });

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${server.url}${path}`, { headers });

  async function open(path: string, headers: Record<string, string> = {}): Promise<LiveReader> {
    const controller = new AbortController();
    const response = await fetch(`${server.url}${path}`, { headers, signal: controller.signal });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const events: EventSourceMessage[] = [];
    const parser = createParser({ onEvent: (event) => events.push(event) });
    const body = response.body!.pipeThrough(new TextDecoderStream()).getReader();
    const ended = (async () => {
      for (let next = await body.read(); !next.done; next = await body.read()) parser.feed(next.value);
    })();
    ended.catch(() => undefined); // an abort rejects it: that is the point of an abort
    const reader: LiveReader = { status: response.status, events, ended, abort: () => controller.abort() };
    readers.push(reader);
    return reader;
  }

  async function expectError(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await response.json()) as ErrorBody;
    expect(body.error.code).toBe(code);
    return body.error;
  }

  async function finishedEcho(text: string, tenantId?: string): Promise<JobSnapshot> {
    const job = await tracker.submit('echo', { text }, tenantId === undefined ? {} : { tenantId });
    return tracker.wait(job.id);
  }

  describe('several jobs: ?id=…&id=…', () => {
    it('one stream for several jobs: `id: <jobId>:<seq>`, each job in order, ending after the last terminal event with one end event', async () => {
      await server.close();
      await tracker.close();
      await setup({ sse: { endEvent: 'end' } });
      const a = await tracker.submit('controlled', {});
      const b = await tracker.submit('controlled', {});
      const reader = await open(`/jobs/events?id=${a.id}&id=${b.id}&id=${a.id}`);
      const [runA, runB] = await Promise.all([control.started(a.id), control.started(b.id)]);
      await until(() => reader.events.filter((e) => e.event === 'started').length === 2, 10_000, 'both jobs started');
      runA.ctx.progress(50, 'half');
      runA.ctx.write('hello');
      runA.done.resolve({ ok: true });
      await until(() => framesOf(reader.events, a.id).some((e) => e.event === 'completed'), 10_000, 'a completed');
      expect(reader.events.at(-1)?.event).toBe('completed'); // b goes on: no end yet
      runB.done.reject(new Error('boom'));
      await reader.ended;

      expect(framesOf(reader.events, a.id).map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'output', 'completed']);
      expect(framesOf(reader.events, b.id).map((e) => e.event)).toEqual(['queued', 'started', 'failed']);
      for (const message of reader.events.slice(0, -1)) {
        const event = eventOf(message);
        expect(message.id).toBe(`${event.jobId}:${event.seq}`);
        expect(message.event).toBe(event.type);
      }
      expect((eventOf(framesOf(reader.events, a.id)[3]!) as JobOutputEvent).chunk).toBe('hello');
      const end = reader.events.at(-1)!;
      expect(end).toMatchObject({ event: 'end', id: undefined });
      expect(JSON.parse(end.data)).toEqual({ [a.id]: 'completed', [b.id]: 'failed' });
      expect(reader.events.filter((e) => e.event === 'end')).toHaveLength(1);
      await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to be freed');
    });

    it('reconnecting mid-stream with every job’s cursor: nothing lost, nothing repeated, for any job', async () => {
      const jobs = await Promise.all([0, 1, 2].map(() => tracker.submit('controlled', {})));
      const [a, b, c] = jobs.map((job) => job.id) as [string, string, string];
      const runs = await Promise.all([a, b, c].map((id) => control.started(id)));
      const [runA, runB, runC] = runs as [(typeof runs)[0], (typeof runs)[0], (typeof runs)[0]];
      const first = await open(`/jobs/events?id=${a}&id=${b}&id=${c}`);
      runA.ctx.write('a1 ');
      runB.ctx.write('b1 ');
      await until(() => first.events.filter((e) => e.event === 'output').length === 2, 10_000, 'the first chunks');
      first.abort();
      await until(() => countOpenStreams(tracker) === 0, 10_000, 'the first stream to be freed');

      // While nobody listens: more output, a progress, one job ends.
      runA.ctx.write('a2 ');
      runB.ctx.write('b2 ');
      runC.ctx.progress(40, 'c');
      runB.done.resolve('b done');
      await tracker.wait(b);
      await until(async () => (await tracker.output(a)).chunks.length === 2, 10_000, 'a2 written');

      const second = await open(`/jobs/events?id=${a}&id=${b}&id=${c}`, { 'last-event-id': cursorsOf(first.events) });
      await until(() => framesOf(second.events, b).some((e) => e.event === 'completed'), 10_000, 'b’s end replayed');
      runA.ctx.write('a3');
      runA.done.resolve('a done');
      await tracker.cancel(c, 'enough');
      await second.ended;

      for (const id of [a, b, c]) {
        const seqs = [...framesOf(first.events, id), ...framesOf(second.events, id)].map((e) => eventOf(e).seq);
        expect(seqs, id).toEqual([...new Set(seqs)].sort((x, y) => x - y)); // strictly increasing across both: none repeated
        const types = [...framesOf(first.events, id), ...framesOf(second.events, id)].map((e) => e.event);
        for (const type of ['queued', 'started']) expect(types.filter((t) => t === type), `${id} ${type}`).toHaveLength(1);
      }
      const text = (id: string): string =>
        [...framesOf(first.events, id), ...framesOf(second.events, id)]
          .filter((e) => e.event === 'output')
          .map((e) => (eventOf(e) as JobOutputEvent).chunk)
          .join('');
      expect(text(a)).toBe('a1 a2 a3');
      expect(text(b)).toBe('b1 b2 ');
      expect(framesOf(second.events, b).map((e) => e.event)).toEqual(['output', 'completed']);
      expect(framesOf(second.events, c).map((e) => e.event)).toEqual(['progress', 'cancelled']);
      expect(framesOf(second.events, a).at(-1)?.event).toBe('completed');
      expect(second.events.every((e) => e.event !== 'gap')).toBe(true);
    });

    it('Last-Event-ID with one pair (what a native EventSource sends back): that job resumes, the others replay from the start; a pair for another job is ignored', async () => {
      const a = await finishedEcho('a');
      const b = await finishedEcho('b');
      const all = parseSSE(await (await get(`/jobs/events?id=${a.id}&id=${b.id}`)).text()).events;
      expect(framesOf(all, a.id).map((e) => e.id)).toEqual([`${a.id}:1`, `${a.id}:2`, `${a.id}:3`]);
      const resumed = parseSSE(await (await get(`/jobs/events?id=${a.id}&id=${b.id}`, { 'last-event-id': `${a.id}:2, AAAAAAAAAAAAAAAAAAAAAA:9` })).text()).events;
      expect(resumed.map((e) => e.id)).toEqual([`${a.id}:3`, `${b.id}:1`, `${b.id}:2`, `${b.id}:3`]);
      // The query parameter does the same, for a client that cannot send headers.
      const viaQuery = parseSSE(await (await get(`/jobs/events?id=${a.id}&id=${b.id}&lastEventId=${b.id}:3`)).text()).events;
      expect(viaQuery.map((e) => e.id)).toEqual([`${a.id}:1`, `${a.id}:2`, `${a.id}:3`]);
    });

    it('204 when every job’s cursor is at or past its terminal event', async () => {
      const a = await finishedEcho('a');
      const b = await finishedEcho('b');
      const done = await get(`/jobs/events?id=${a.id}&id=${b.id}`, { 'last-event-id': `${a.id}:3,${b.id}:99` });
      expect(done.status).toBe(204);
      expect(await done.text()).toBe('');
      expect((await get(`/jobs/events?id=${a.id}&id=${b.id}`, { 'last-event-id': `${a.id}:3,${b.id}:2` })).status).toBe(200);
      expect(countOpenStreams(tracker)).toBe(0);
    });

    it('404 JOB_NOT_FOUND for an unknown or malformed id, naming it; 400 past 100 distinct ids, for a bad Last-Event-ID or parameter; 405 for another method', async () => {
      const a = await finishedEcho('a');
      for (const bad of ['AAAAAAAAAAAAAAAAAAAAAA', '..%2F..%2Fetc', 'a:b']) {
        const error = await expectError(await get(`/jobs/events?id=${a.id}&id=${bad}`), 404, 'JOB_NOT_FOUND');
        const id = decodeURIComponent(bad);
        expect(error).toEqual({ code: 'JOB_NOT_FOUND', message: `Unknown job ${id}`, details: { jobId: id } });
      }
      for (const empty of [`id=${a.id}&id=`, 'id=']) await expectError(await get(`/jobs/events?${empty}`), 400, 'INVALID_REQUEST'); // an empty id, not an unknown job
      const hundred = Array.from({ length: 100 }, (_, i) => `id=job${i}`).join('&');
      await expectError(await get(`/jobs/events?${hundred}&id=job0`), 404, 'JOB_NOT_FOUND'); // 100 once repeats are dropped: counted, then looked up
      await expectError(await get(`/jobs/events?${hundred}&id=job100`), 400, 'INVALID_REQUEST');
      for (const cursor of ['x', `${a.id}:`, `${a.id}:-1`, `${a.id}:1.5`, `${a.id}:1;b:2`, `${a.id}:1,,`, '5']) {
        await expectError(await get(`/jobs/events?id=${a.id}`, { 'last-event-id': cursor }), 400, 'INVALID_REQUEST');
      }
      await expectError(await get(`/jobs/events?id=${a.id}&tenantId=t`), 400, 'INVALID_REQUEST');
      await expectError(await get(`/jobs/events?id=${a.id}&lastEventId=${a.id}:1&lastEventId=${a.id}:2`), 400, 'INVALID_REQUEST');
      for (const method of ['POST', 'DELETE', 'HEAD', 'PUT']) {
        const response = await fetch(`${server.url}/jobs/events?id=${a.id}`, { method });
        expect(response.status, method).toBe(405);
        expect(response.headers.get('allow')).toBe('GET');
      }
      expect(countOpenStreams(tracker)).toBe(0);
    });

    it('authorize runs once per job before anything is sent: a refusal refuses the whole request; JOB_NOT_FOUND reads exactly like a missing job', async () => {
      await server.close();
      await tracker.close();
      const seen: AuthorizeContext[] = [];
      await setup({
        authorize: (context) => {
          seen.push(context);
          const tenant = context.request.headers.get('x-tenant');
          if (context.job && context.job.tenantId !== tenant) {
            if (tenant === 'polite') return false;
            throw new JobwireError('JOB_NOT_FOUND', 'not yours');
          }
          return true;
        },
      });
      const mine = await finishedEcho('mine', 'acme');
      const theirs = await finishedEcho('theirs', 'evil');
      const missing = 'AAAAAAAAAAAAAAAAAAAAAA';

      const ok = await get(`/jobs/events?id=${mine.id}`, { 'x-tenant': 'acme' });
      expect(parseSSE(await ok.text()).events.map((e) => e.event)).toEqual(['queued', 'started', 'completed']);
      expect(seen.map((c) => [c.action, c.job?.id])).toEqual([['events', mine.id]]);

      seen.length = 0;
      const refused = await get(`/jobs/events?id=${mine.id}&id=${theirs.id}`, { 'x-tenant': 'acme' });
      const absent = await get(`/jobs/events?id=${mine.id}&id=${missing}`, { 'x-tenant': 'acme' });
      expect(refused.status).toBe(404);
      const shape = async (response: Response, id: string) => ({
        status: response.status,
        type: response.headers.get('content-type'),
        body: (await response.text()).replaceAll(id, '<id>'),
      });
      expect(await shape(refused, theirs.id)).toEqual(await shape(absent, missing));
      expect(seen.filter((c) => c.job?.id === theirs.id)).toHaveLength(1);
      expect(seen.every((c) => c.action === 'events')).toBe(true);

      await expectError(await get(`/jobs/events?id=${mine.id}&id=${theirs.id}`, { 'x-tenant': 'polite' }), 403, 'FORBIDDEN');
      expect(countOpenStreams(tracker)).toBe(0);
    });

    it('a job that is not the caller’s reads like a missing one wherever it stands: the 404 names the first of either, in the order given', async () => {
      await server.close();
      await tracker.close();
      // The docs' authorize: another tenant's job is "Unknown job"; tenant `polite` is refused with `false`.
      await setup({
        authorize: ({ request, job }) => {
          const tenant = request.headers.get('x-tenant');
          if (!job || job.tenantId === tenant) return true;
          if (tenant === 'polite') return false;
          throw new JobwireError('JOB_NOT_FOUND', 'Unknown job');
        },
      });
      const mine = await finishedEcho('mine', 'acme');
      const theirs = await finishedEcho('theirs', 'evil');
      const [fake, fake2] = ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'];
      const acme = { 'x-tenant': 'acme' };
      /** The answer to `ids`, with the id it names written `<first>`. */
      const answer = async (ids: string[], named: string, headers = acme) => {
        const response = await get(`/jobs/events?${ids.map((id) => `id=${id}`).join('&')}`, headers);
        return { status: response.status, type: response.headers.get('content-type'), body: (await response.text()).replaceAll(named, '<first>') };
      };
      const unknownFirst = await answer([fake2, fake], fake2);
      expect(unknownFirst.status).toBe(404);
      expect(await answer([theirs.id, fake], theirs.id)).toEqual(unknownFirst);
      expect(await answer([mine.id, theirs.id, fake], theirs.id)).toEqual(await answer([mine.id, fake2, fake], fake2));
      expect(await answer([mine.id, fake, theirs.id], fake)).toEqual(await answer([mine.id, fake, fake2], fake));
      // Other refusals stay 403, after any missing job (which says nothing about the refused one).
      const polite = { 'x-tenant': 'polite' };
      expect((await answer([mine.id, theirs.id], theirs.id, polite)).status).toBe(403);
      expect(await answer([theirs.id, fake], fake, polite)).toEqual(await answer([mine.id, fake], fake, polite));
      expect(countOpenStreams(tracker)).toBe(0);
    });

    it('a client that goes away frees the stream and every job it followed', async () => {
      const a = await tracker.submit('controlled', {});
      const b = await tracker.submit('controlled', {});
      await Promise.all([control.started(a.id), control.started(b.id)]);
      const reader = await open(`/jobs/events?id=${a.id}&id=${b.id}`);
      await until(() => reader.events.filter((e) => e.event === 'started').length === 2, 10_000, 'both started');
      expect(countOpenStreams(tracker)).toBe(1);
      reader.abort();
      await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to be freed');
    });
  });

  describe('tenant-wide: no id', () => {
    it('live status events of every job that matches the filter, never output, never a job from before; it does not end by itself', async () => {
      const before = await finishedEcho('before', 'acme');
      const reader = await open('/jobs/events?tenantId=acme&plugin=controlled');
      const other = await tracker.submit('controlled', {}, { tenantId: 'other' });
      const echoed = await tracker.submit('echo', { text: 'x' }, { tenantId: 'acme' });
      const job = await tracker.submit('controlled', {}, { tenantId: 'acme' });
      const run = await control.started(job.id);
      run.ctx.write('not sent');
      run.ctx.progress(30, 'a third');
      run.done.resolve('ok');
      await until(() => reader.events.some((e) => e.event === 'completed'), 10_000, 'the job completed');
      expect(reader.events.map((e) => e.event)).toEqual(['queued', 'started', 'progress', 'completed']);
      for (const message of reader.events) {
        const event = eventOf(message);
        expect(event.jobId).toBe(job.id);
        expect(message.id).toBe(`${job.id}:${event.seq}`);
      }
      expect([before.id, other.id, echoed.id]).not.toContain(eventOf(reader.events[0]!).jobId);
      expect(countOpenStreams(tracker)).toBe(1); // still open: a list page keeps it
      reader.abort();
      await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to be freed');
    });

    it('authorize sees the query once, then each job once before its first event; a refused job is skipped silently', async () => {
      await server.close();
      await tracker.close();
      const seen: AuthorizeContext[] = [];
      await setup({
        authorize: async ({ request, action, job, query }) => {
          seen.push({ request, action, ...(job && { job }), ...(query && { query }) });
          const tenant = request.headers.get('x-tenant');
          if (!job) return query?.tenantId === undefined || query.tenantId === tenant;
          return job.tenantId === tenant;
        },
      });
      await expectError(await get('/jobs/events?tenantId=acme', { 'x-tenant': 'evil' }), 403, 'FORBIDDEN');
      seen.length = 0;
      const reader = await open('/jobs/events?status=queued,running', { 'x-tenant': 'acme' });
      expect(seen.map((c) => [c.action, c.query])).toEqual([['events', { status: ['queued', 'running'] }]]);
      const theirs = await tracker.submit('controlled', {}, { tenantId: 'evil' });
      const mine = await tracker.submit('controlled', {}, { tenantId: 'acme' });
      const [runTheirs, runMine] = await Promise.all([control.started(theirs.id), control.started(mine.id)]);
      runTheirs.ctx.progress(10);
      runMine.ctx.progress(10);
      runTheirs.done.resolve(1);
      runMine.done.resolve(1);
      // `completed` does not match status=queued,running, but a job followed stays followed to its end.
      await until(() => reader.events.some((e) => e.event === 'completed'), 10_000, 'my job completed');
      expect(reader.events.map((e) => [eventOf(e).jobId, e.event])).toEqual(
        ['queued', 'started', 'progress', 'completed'].map((type) => [mine.id, type]),
      );
      const perJob = seen.filter((c) => c.job);
      expect(perJob.map((c) => c.job?.id).sort()).toEqual([mine.id, theirs.id].sort()); // once each, though each sent four events
      expect(perJob.every((c) => c.action === 'events' && c.query === undefined)).toBe(true);
    });

    it('the tracker shutting down ends it (the server can close); asked for while it closes or after, it is 503 CLOSED', async () => {
      const reader = await open('/jobs/events?tenantId=acme');
      const job = await tracker.submit('controlled', {}, { tenantId: 'acme' });
      await until(() => reader.events.some((e) => e.event === 'started'), 10_000, 'the job started');
      expect(countOpenStreams(tracker)).toBe(1);
      const closing = tracker.close({ timeoutMs: 0 });
      await expectError(await get('/jobs/events?tenantId=acme'), 503, 'CLOSED');
      await reader.ended; // the server ended the response
      expect(countOpenStreams(tracker)).toBe(0);
      await closing;
      await expectError(await get('/jobs/events'), 503, 'CLOSED');
      expect(eventOf(reader.events[0]!).jobId).toBe(job.id);
    });

    it('400 for limit, cursor, a bad status or an unknown parameter; a lastEventId is ignored (no replay)', async () => {
      for (const query of ['limit=5', 'cursor=abc', 'status=bogus', 'sort=asc', 'tenantId=a&tenantId=b']) {
        await expectError(await get(`/jobs/events?${query}`), 400, 'INVALID_REQUEST');
      }
      await finishedEcho('old');
      const reader = await open('/jobs/events', { 'last-event-id': 'anything at all' });
      const job = await finishedEcho('new');
      await until(() => reader.events.some((e) => e.event === 'completed'), 10_000, 'the new job');
      expect(new Set(reader.events.map((e) => eventOf(e).jobId))).toEqual(new Set([job.id]));
    });
  });
});
