import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, isStatusEvent, JobTracker, JobwireError, LocalPluginManager, type JobSnapshot, type JobStatusEvent } from '../../src/index.js';
import { createJobRoutes, type AuthorizeContext, type HttpErrorBody, type JobRoutesOptions } from '../../src/http/index.js';
import { openJobStream } from '../../src/sse/index.js';
import { collect } from '../helpers/deferred.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { ORIGIN, routeCaller } from '../helpers/route-call.js';
import { parseSSE } from '../helpers/sse.js';

const URLENCODED = 'application/x-www-form-urlencoded';

/** Fails its first `failures` tries, then answers with the try it succeeded on. */
const flaky = definePlugin({
  name: 'flaky',
  input: z.object({ failures: z.number().int().min(0).default(1) }),
  retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 5 } },
  async run(input, ctx) {
    ctx.progress(50, `try ${ctx.attempt}`);
    if (ctx.attempt <= input.failures) throw new Error(`try ${ctx.attempt} failed`);
    return { attempt: ctx.attempt };
  },
});

const echo = definePlugin({ name: 'echo', input: z.object({ text: z.string() }), run: async (input) => ({ text: input.text }) });

describe('retries, delays, re-runs and schedules over HTTP', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let routes: (request: Request) => Promise<Response | undefined>;

  function setup(options: JobRoutesOptions = {}): void {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(flaky).register(echo).register(control.plugin) });
    routes = createJobRoutes(tracker, options);
  }
  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  const call = routeCaller(() => routes);

  async function accepted(response: Response): Promise<JobSnapshot> {
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as JobSnapshot;
  }

  async function errorOf(response: Response, status: number, code: string): Promise<HttpErrorBody['error']> {
    expect(response.status).toBe(status);
    const { error } = (await response.json()) as HttpErrorBody;
    expect(error.code).toBe(code);
    return error;
  }

  const form = (fields: [string, string][]): string => new URLSearchParams(fields).toString();

  describe('POST /jobs takes the retry and delay options', () => {
    it('as JSON: attempts, backoff, retryOnTimeout and delayMs; the delayed job waits queued with runAt and cancels', async () => {
      const before = Date.now();
      const job = await accepted(
        await call('POST', '/jobs', { plugin: 'echo', input: { text: 'later' }, attempts: 4, backoff: { type: 'exponential', delayMs: 100, maxDelayMs: 1_000, jitter: 0.5 }, retryOnTimeout: true, delayMs: 60_000 }),
      );
      expect(job).toMatchObject({ status: 'queued', attempt: 1, maxAttempts: 4 });
      expect(Date.parse(job.runAt!)).toBeGreaterThanOrEqual(before + 60_000);
      expect((await tracker.stats()).delayed).toBe(1);
      const cancelled = (await (await call('POST', `/jobs/${job.id}/cancel`)).json()) as JobSnapshot;
      expect(cancelled.status).toBe('cancelled');
    });

    it('as JSON: runAt as an ISO date-time or epoch milliseconds; bad values are 400 INVALID_REQUEST', async () => {
      const at = Date.now() + 3_600_000;
      const iso = await accepted(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'a' }, runAt: new Date(at).toISOString() }));
      expect(Date.parse(iso.runAt!)).toBe(at);
      const epoch = await accepted(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'b' }, runAt: at }));
      expect(Date.parse(epoch.runAt!)).toBe(at);
      for (const bad of [
        { delayMs: 10, runAt: at },
        { delayMs: -1 },
        { runAt: 'tomorrow' },
        { attempts: 0 },
        { backoff: { type: 'linear', delayMs: 10 } },
        { backoff: 1000 },
        { retryOnTimeout: 'yes' },
      ]) {
        await errorOf(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' }, ...bad }), 400, 'INVALID_REQUEST');
      }
      expect((await tracker.list()).jobs).toHaveLength(2);
    });

    it('from a form: numbers and booleans from text, backoff as JSON text, runAt as ISO text or epoch digits', async () => {
      const at = Date.now() + 3_600_000;
      const post = (fields: [string, string][]): Promise<Response> => call('POST', '/jobs', form(fields), { 'content-type': URLENCODED });
      const job = await accepted(
        await post([
          ['plugin', 'echo'],
          ['input.text', 'from a form'],
          ['attempts', '3'],
          ['backoff', '{"type":"fixed","delayMs":2000}'],
          ['retryOnTimeout', 'on'],
          ['delayMs', '60000'],
        ]),
      );
      expect(job).toMatchObject({ status: 'queued', maxAttempts: 3 });
      expect(Date.parse(job.runAt!)).toBeGreaterThan(Date.now() + 50_000);
      const byEpoch = await accepted(await post([['plugin', 'echo'], ['input.text', 'x'], ['runAt', String(at)]]));
      expect(Date.parse(byEpoch.runAt!)).toBe(at);
      const byIso = await accepted(await post([['plugin', 'echo'], ['input.text', 'x'], ['runAt', new Date(at).toISOString()], ['retryOnTimeout', 'false']]));
      expect(Date.parse(byIso.runAt!)).toBe(at);
      // Empty option fields count as not given: an unchecked box, a blank delay.
      const plain = await accepted(await post([['plugin', 'echo'], ['input.text', 'x'], ['attempts', ''], ['delayMs', ' '], ['retryOnTimeout', ''], ['backoff', '']]));
      expect(plain).toMatchObject({ maxAttempts: 1 });
      expect(plain.runAt).toBeUndefined();

      for (const [name, value, message] of [
        ['attempts', 'three', /`attempts` must be a number/],
        ['delayMs', '1e400x', /`delayMs` must be a number/],
        ['retryOnTimeout', 'maybe', /`retryOnTimeout` must be true or false/],
        ['backoff', 'fixed', /`backoff` must be JSON text/],
        ['backoff', '{"type":"fixed"}', /backoff\.delayMs/],
        ['runAt', 'soon', /`runAt`/],
      ] as const) {
        const error = await errorOf(await post([['plugin', 'echo'], ['input.text', 'x'], [name, value]]), 400, 'INVALID_REQUEST');
        expect(error.message).toMatch(message);
      }
    });
  });

  describe('POST /jobs/:id/retry', () => {
    async function failedJob(extra: Record<string, unknown> = {}): Promise<JobSnapshot> {
      const job = await accepted(await call('POST', '/jobs', { plugin: 'flaky', input: { failures: 5 }, attempts: 1, tenantId: 'acme', workspaceId: 'w1', priority: 3, metadata: { from: 'test' }, ...extra }));
      const ended = await tracker.wait(job.id);
      expect(ended.status).toBe('failed');
      return ended;
    }

    it('re-runs a failed job as a new job: 202, its Location, same plugin, input and options, retryOf the old one', async () => {
      const old = await failedJob({ idempotencyKey: 'k1' });
      const response = await call('POST', `/jobs/${old.id}/retry`);
      const rerun = await accepted(response);
      expect(response.headers.get('location')).toBe(`/jobs/${rerun.id}`);
      expect(rerun.id).not.toBe(old.id);
      expect(rerun).toMatchObject({ plugin: 'flaky', input: { failures: 5 }, retryOf: old.id, attempt: 1, maxAttempts: 1, tenantId: 'acme', workspaceId: 'w1', priority: 3, metadata: { from: 'test' } });
      expect(['queued', 'running', 'failed']).toContain(rerun.status);
      // The old job stays as it ended.
      expect((await (await call('GET', `/jobs/${old.id}`)).json()) as JobSnapshot).toEqual(old);
      expect((await tracker.wait(rerun.id)).status).toBe('failed');
    });

    it('re-runs a cancelled job; a job that is queued, running or completed is 400 INVALID_REQUEST and makes no job', async () => {
      const running = await tracker.submit('controlled', {});
      await control.started(running.id);
      await errorOf(await call('POST', `/jobs/${running.id}/retry`), 400, 'INVALID_REQUEST');
      const delayed = await tracker.submit('echo', { text: 'x' }, { delayMs: 60_000 });
      await errorOf(await call('POST', `/jobs/${delayed.id}/retry`), 400, 'INVALID_REQUEST');
      const completed = await tracker.submit('echo', { text: 'x' });
      expect((await tracker.wait(completed.id)).status).toBe('completed');
      await errorOf(await call('POST', `/jobs/${completed.id}/retry`), 400, 'INVALID_REQUEST');
      expect((await tracker.list()).jobs).toHaveLength(3);

      await tracker.cancel(running.id, 'stop');
      const rerun = await accepted(await call('POST', `/jobs/${running.id}/retry`));
      expect(rerun).toMatchObject({ plugin: 'controlled', retryOf: running.id });
      (await control.started(rerun.id)).done.resolve({ ok: true });
      expect((await tracker.wait(rerun.id)).status).toBe('completed');
    });

    it('unknown or malformed ids are 404 JOB_NOT_FOUND; other methods are 405 with Allow: POST', async () => {
      await errorOf(await call('POST', '/jobs/nope/retry'), 404, 'JOB_NOT_FOUND');
      await errorOf(await call('POST', `/jobs/${'a'.repeat(24)}/retry`), 404, 'JOB_NOT_FOUND');
      await errorOf(await call('POST', '/jobs/%E0%A4%A/retry'), 400, 'INVALID_REQUEST');
      const old = await failedJob();
      for (const method of ['GET', 'DELETE', 'PUT']) {
        const response = await call(method, `/jobs/${old.id}/retry`);
        await errorOf(response, 405, 'INVALID_REQUEST');
        expect(response.headers.get('allow')).toBe('POST');
      }
      expect((await tracker.list()).jobs).toHaveLength(1);
    });

    it('authorize is asked with action retry and the old job; a refusal is 403 and makes no job; JOB_NOT_FOUND hides the job', async () => {
      const seen: AuthorizeContext[] = [];
      setup({
        authorize: (context) => {
          seen.push(context);
          if (context.action !== 'retry') return true;
          const tenant = context.request.headers.get('x-tenant');
          if (tenant === 'hidden') throw new JobwireError('JOB_NOT_FOUND', 'no such job');
          return context.job?.tenantId === tenant;
        },
      });
      const old = await failedJob();
      await errorOf(await call('POST', `/jobs/${old.id}/retry`, undefined, { 'x-tenant': 'evil' }), 403, 'FORBIDDEN');
      const hidden = await errorOf(await call('POST', `/jobs/${old.id}/retry`, undefined, { 'x-tenant': 'hidden' }), 404, 'JOB_NOT_FOUND');
      const unknown = await errorOf(await call('POST', `/jobs/${'b'.repeat(24)}/retry`, undefined, { 'x-tenant': 'hidden' }), 404, 'JOB_NOT_FOUND');
      expect(hidden.message).toBe(unknown.message.replace('b'.repeat(24), old.id));
      expect((await tracker.list()).jobs).toHaveLength(1);
      await accepted(await call('POST', `/jobs/${old.id}/retry`, undefined, { 'x-tenant': 'acme' }));
      const retries = seen.filter((context) => context.action === 'retry');
      expect(retries.map((context) => context.job?.id)).toEqual([old.id, old.id, old.id]);
      expect(retries.every((context) => context.job?.status === 'failed')).toBe(true);
    });
  });

  describe('the retrying event over SSE', () => {
    it('flows through GET /jobs/:id/events between the tries, with runAt, lastError and the next attempt; seq goes on', async () => {
      const job = await accepted(await call('POST', '/jobs', { plugin: 'flaky', input: { failures: 2 } }));
      expect(job).toMatchObject({ attempt: 1, maxAttempts: 3 });
      const response = await call('GET', `/jobs/${job.id}/events`);
      expect(response.status).toBe(200);
      const { events } = parseSSE(await response.text());
      const types = events.map((event) => event.event);
      expect(types).toEqual(['queued', 'started', 'progress', 'retrying', 'started', 'progress', 'retrying', 'started', 'progress', 'completed']);
      expect(events.map((event) => Number(event.id))).toEqual(events.map((_, index) => index + 1));
      const retrying = events.filter((event) => event.event === 'retrying').map((event) => JSON.parse(event.data) as JobStatusEvent);
      expect(retrying.map((event) => event.job.attempt)).toEqual([2, 3]);
      for (const [index, event] of retrying.entries()) {
        expect(event).toMatchObject({ type: 'retrying', job: { status: 'queued', progress: 0, maxAttempts: 3, lastError: { code: 'PLUGIN_FAILED', message: `try ${index + 1} failed` } } });
        expect(typeof event.job.runAt).toBe('string');
      }
      const last = JSON.parse(events.at(-1)!.data) as JobStatusEvent;
      expect(last.job).toMatchObject({ status: 'completed', attempt: 3, result: { attempt: 3 }, lastError: { code: 'PLUGIN_FAILED', message: 'try 2 failed' } });
      expect(last.job.runAt).toBeUndefined();

      // Last-Event-ID resumes across tries: after the first retrying event comes the second try.
      const resumed = parseSSE(await (await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': '4' })).text());
      expect(resumed.events.map((event) => event.event)).toEqual(types.slice(4));
    });

    it('is not an ending for htmx streams: unnamed events with HTML, and the end event only after the terminal one', async () => {
      const job = await tracker.submit('flaky', { failures: 1 });
      const stream = await openJobStream(tracker, job.id, {
        serialize: (event) => (isStatusEvent(event) ? `<span>${event.job.status} ${event.job.attempt}/${event.job.maxAttempts}</span>` : ''),
        eventName: () => undefined,
        endEvent: 'end',
      });
      expect(stream.status).toBe(200);
      const { events } = parseSSE(await collect(stream));
      expect(events.map((event) => event.event)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined, undefined, 'end']);
      expect(events.map((event) => event.data)).toEqual([
        '<span>queued 1/3</span>',
        '<span>running 1/3</span>',
        '<span>running 1/3</span>',
        '<span>queued 2/3</span>', // retrying
        '<span>running 2/3</span>',
        '<span>running 2/3</span>',
        '<span>completed 2/3</span>',
        'completed',
      ]);
    });

    it('a stream opened while a retry waits for its backoff stays open and carries the next try', async () => {
      const job = await tracker.submit('flaky', { failures: 1 }, { backoff: { type: 'fixed', delayMs: 300 } });
      // Wait for the retrying event without a stream.
      for await (const event of tracker.events(job.id)) if (event.type === 'retrying') break;
      const waiting = await tracker.get(job.id);
      expect(waiting).toMatchObject({ status: 'queued', attempt: 2 });
      expect(waiting?.runAt).toBeDefined();
      const { events } = parseSSE(await (await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': '4' })).text());
      expect(events.map((event) => event.event)).toEqual(['started', 'progress', 'completed']);
    });
  });

  describe('GET /schedules', () => {
    it('lists the schedules, read-only; authorize is asked with action schedules', async () => {
      const seen: AuthorizeContext[] = [];
      setup({ authorize: (context) => void seen.push(context) });
      expect(await (await call('GET', '/schedules')).json()).toEqual({ schedules: [] });
      await tracker.schedule('nightly', { cron: '0 3 * * *', tz: 'UTC', plugin: 'echo', input: { text: 'report' } });
      const response = await call('GET', '/schedules');
      expect(response.status).toBe(200);
      const { schedules } = (await response.json()) as { schedules: { key: string; next?: string }[] };
      expect(schedules).toEqual([{ key: 'nightly', cron: '0 3 * * *', tz: 'UTC', plugin: 'echo', next: expect.stringMatching(/T03:00:00(\.000)?Z$/) as unknown }]);
      expect(seen.filter((context) => context.action === 'schedules')).toHaveLength(2);
      for (const method of ['POST', 'DELETE', 'PUT']) {
        const refused = await call(method, '/schedules');
        await errorOf(refused, 405, 'INVALID_REQUEST');
        expect(refused.headers.get('allow')).toBe('GET');
      }
      expect((await tracker.schedules()).map((schedule) => schedule.key)).toEqual(['nightly']);
    });

    it('a refusal is 403; schedulesPath moves the route; it must differ from the other paths', async () => {
      setup({ authorize: ({ action }) => action !== 'schedules', schedulesPath: '/api/schedules' });
      await errorOf(await call('GET', '/api/schedules'), 403, 'FORBIDDEN');
      expect(await routes(new Request(`${ORIGIN}/schedules`))).toBeUndefined();
      expect(() => createJobRoutes(tracker, { schedulesPath: '/plugins' })).toThrow(/schedulesPath/);
      expect(() => createJobRoutes(tracker, { schedulesPath: 'schedules' })).toThrow(/schedulesPath/);
    });

    it('a backend without schedules lists none (the tracker refuses with INVALID_CONFIG); other errors keep their status', async () => {
      const spy = vi.spyOn(tracker, 'schedules').mockRejectedValueOnce(new JobwireError('INVALID_CONFIG', 'This backend has no schedules'));
      const response = await call('GET', '/schedules');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ schedules: [] });
      spy.mockRejectedValueOnce(new JobwireError('UNAVAILABLE', 'The store did not answer'));
      await errorOf(await call('GET', '/schedules'), 503, 'UNAVAILABLE');
    });
  });
});
