import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, JobwireError, LocalPluginManager, type JobSnapshot, type PluginManager } from '../../src/index.js';
import { createJobRoutes, type AuthorizeContext, type JobRoutesOptions } from '../../src/http/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { ORIGIN, routeCaller } from '../helpers/route-call.js';
import { parseSSE } from '../helpers/sse.js';

const ERROR_STATUSES = new Set([400, 403, 404, 405, 409, 413, 422, 429, 500, 503]);

const echo = definePlugin({
  name: 'echo',
  title: 'Echo',
  category: 'text',
  input: z.object({ text: z.string().max(100) }),
  run: async (input) => ({ text: input.text }),
});

interface ErrorBody {
  error: { code: string; message: string; details?: unknown };
}

describe('createJobRoutes', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let plugins: LocalPluginManager;
  let routes: (request: Request) => Promise<Response | undefined>;

  function setup(options: JobRoutesOptions = {}, trackerOptions: { concurrency?: number; maxQueued?: number } = {}): void {
    control = controlledPlugin();
    plugins = new LocalPluginManager().register(echo).register(control.plugin);
    tracker = new JobTracker({ plugins, ...trackerOptions });
    routes = createJobRoutes(tracker, options);
  }

  const call = routeCaller(() => routes);

  async function expectError(response: Response, status: number, code: string): Promise<ErrorBody['error']> {
    expect(response.status).toBe(status);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const body = (await response.json()) as ErrorBody;
    expect(Object.keys(body)).toEqual(['error']);
    expect(body.error.code).toBe(code);
    expect(typeof body.error.message).toBe('string');
    return body.error;
  }

  async function submitEcho(text = 'hi', extra: Record<string, unknown> = {}): Promise<JobSnapshot> {
    const response = await call('POST', '/jobs', { plugin: 'echo', input: { text }, ...extra });
    expect(response.status).toBe(202);
    return (await response.json()) as JobSnapshot;
  }

  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  it('POST /jobs → 202 with the queued snapshot and its Location; the options pass through', async () => {
    const response = await call('POST', '/jobs', { plugin: 'echo', input: { text: 'hello' }, tenantId: 't1', workspaceId: 'w1', priority: 2, metadata: { from: 'test' } });
    expect(response.status).toBe(202);
    const job = (await response.json()) as JobSnapshot;
    expect(job).toMatchObject({ plugin: 'echo', status: 'queued', input: { text: 'hello' }, tenantId: 't1', workspaceId: 'w1', priority: 2, metadata: { from: 'test' } });
    expect(response.headers.get('location')).toBe(`/jobs/${job.id}`);
    expect((await tracker.wait(job.id)).result).toEqual({ text: 'hello' });
  });

  it('the same idempotencyKey gives the same job', async () => {
    const first = await submitEcho('a', { idempotencyKey: 'k1' });
    const second = await submitEcho('a', { idempotencyKey: 'k1' });
    expect(second.id).toBe(first.id);
  });

  it('malformed bodies are 400 INVALID_REQUEST and store nothing', async () => {
    await expectError(await call('POST', '/jobs', '{"plugin": "echo", '), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', '[1,2]'), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', 'null'), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', ''), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', 'plugin=echo', { 'content-type': 'text/plain' }), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', '{}', { 'content-type': 'application/jsonx' }), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', { input: { text: 'x' } }), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' }, ttlMs: 5 }), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' }, priority: 'high' }), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', '{"plugin":"echo","input":{"text":"x"},"__proto__":{"polluted":true}}'), 400, 'INVALID_REQUEST');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect((await tracker.list()).jobs).toEqual([]);
  });

  it('413 PAYLOAD_TOO_LARGE past maxBodyBytes, by Content-Length or by counting a streamed body', async () => {
    setup({ maxBodyBytes: 100 });
    const big = { plugin: 'echo', input: { text: 'x'.repeat(200) } };
    await expectError(await call('POST', '/jobs', big), 413, 'PAYLOAD_TOO_LARGE');
    // No Content-Length: a streamed body is cut off once it passes the limit.
    const chunks = ['{"plugin":"echo","input":{"text":"', 'y'.repeat(80), 'y'.repeat(80), '"}}'];
    let pulledChunks = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks[pulledChunks++];
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    const request = new Request(`${ORIGIN}/jobs`, { method: 'POST', body, headers: { 'content-type': 'application/json' }, duplex: 'half' } as RequestInit);
    await expectError((await routes(request))!, 413, 'PAYLOAD_TOO_LARGE');
    expect(pulledChunks).toBeLessThan(chunks.length + 1); // stopped before reading it all
    // The default limit is 1 MiB.
    setup();
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'z'.repeat(1_048_576) } }), 413, 'PAYLOAD_TOO_LARGE');
    expect((await tracker.list()).jobs).toEqual([]);
  });

  it('422 INVALID_INPUT carries the zod issues; 404 unknown plugin; 409 disabled plugin', async () => {
    const invalid = await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 5 } }), 422, 'INVALID_INPUT');
    expect(invalid.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: ['text'] })]));
    const unknown = await expectError(await call('POST', '/jobs', { plugin: 'ecko', input: {} }), 404, 'PLUGIN_NOT_FOUND');
    expect(unknown.message).toBe('Unknown plugin "ecko"; available: controlled, echo');
    plugins.disable('echo');
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' } }), 409, 'PLUGIN_DISABLED');
  });

  it('input or metadata nested without end, or metadata past its size, is a 4xx; the listing, the job and its stream stay readable', async () => {
    await tracker.close({ timeoutMs: 0 });
    const anything = definePlugin({ name: 'anything', input: z.unknown(), run: async (input) => ({ got: typeof input }) });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(anything) });
    routes = createJobRoutes(tracker);
    const nested = (depth: number): string => `${'{"a":'.repeat(depth)}{}${'}'.repeat(depth)}`; // as text: too deep for JSON.stringify
    const good = (await (await call('POST', '/jobs', { plugin: 'anything', input: { fine: true } })).json()) as JobSnapshot;
    await expectError(await call('POST', '/jobs', `{"plugin":"anything","input":${nested(5_000)}}`), 422, 'INVALID_INPUT');
    await expectError(await call('POST', '/jobs', `{"plugin":"anything","input":{},"metadata":${nested(5_000)}}`), 400, 'INVALID_REQUEST');
    await expectError(await call('POST', '/jobs', { plugin: 'anything', input: {}, metadata: { note: 'x'.repeat(100_000) } }), 400, 'INVALID_REQUEST');
    await tracker.wait(good.id);
    const list = await call('GET', '/jobs');
    expect(list.status).toBe(200);
    expect(((await list.json()) as { jobs: JobSnapshot[] }).jobs.map((job) => job.id)).toEqual([good.id]);
    expect((await call('GET', `/jobs/${good.id}`)).status).toBe(200);
    expect(parseSSE(await (await call('GET', `/jobs/${good.id}/events`)).text()).events.map((event) => event.event)).toEqual(['queued', 'started', 'completed']);
  });

  it('429 QUEUE_FULL past maxQueued; 503 CLOSED once the tracker closes', async () => {
    setup({}, { concurrency: 1, maxQueued: 1 });
    const running = (await (await call('POST', '/jobs', { plugin: 'controlled', input: {} })).json()) as JobSnapshot;
    await control.started(running.id);
    expect((await call('POST', '/jobs', { plugin: 'controlled', input: {} })).status).toBe(202);
    await expectError(await call('POST', '/jobs', { plugin: 'controlled', input: {} }), 429, 'QUEUE_FULL');
    await tracker.close({ timeoutMs: 0 });
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' } }), 503, 'CLOSED');
  });

  it('GET /jobs/:id → the snapshot; unknown, malformed or traversal ids → 404 JOB_NOT_FOUND', async () => {
    const job = await submitEcho();
    await tracker.wait(job.id);
    const response = await call('GET', `/jobs/${job.id}`);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ id: job.id, status: 'completed', result: { text: 'hi' } });
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', '%2e%2e%2fetc', 'a%00b', 'x'.repeat(300)]) await expectError(await call('GET', `/jobs/${id}`), 404, 'JOB_NOT_FOUND');
    await expectError(await call('GET', '/jobs/%E0%A4%A'), 400, 'INVALID_REQUEST');
  });

  it('DELETE /jobs/:id: a live job is cancelled (200 snapshot), a finished one deleted (204)', async () => {
    const live = (await (await call('POST', '/jobs', { plugin: 'controlled', input: {} })).json()) as JobSnapshot;
    const run = await control.started(live.id);
    const cancelled = await call('DELETE', `/jobs/${live.id}?reason=${encodeURIComponent('user clicked cancel')}`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: live.id, status: 'cancelled' });
    expect(run.ctx.signal.aborted).toBe(true);
    expect(String(run.ctx.signal.reason)).toContain('user clicked cancel');
    const removed = await call('DELETE', `/jobs/${live.id}`);
    expect(removed.status).toBe(204);
    expect(await removed.text()).toBe('');
    await expectError(await call('GET', `/jobs/${live.id}`), 404, 'JOB_NOT_FOUND');
    await expectError(await call('DELETE', `/jobs/${live.id}`), 404, 'JOB_NOT_FOUND');
  });

  it('POST /jobs/:id/cancel cancels a live job; a late cancel of a finished job returns it unchanged and never deletes it', async () => {
    const seen: AuthorizeContext['action'][] = [];
    setup({ authorize: ({ action }) => void seen.push(action) });
    const live = await call('POST', '/jobs', { plugin: 'controlled', input: {} });
    const job = (await live.json()) as JobSnapshot;
    await control.started(job.id);
    const cancelled = await call('POST', `/jobs/${job.id}/cancel?reason=${encodeURIComponent('not needed')}`);
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ id: job.id, status: 'cancelled', error: { code: 'CANCELLED', message: 'not needed' } });

    const finished = await submitEcho('done');
    const done = await tracker.wait(finished.id);
    for (let i = 0; i < 2; i++) {
      const late = await call('POST', `/jobs/${finished.id}/cancel`);
      expect(late.status).toBe(200);
      expect(await late.json()).toEqual(done);
    }
    expect(await tracker.get(finished.id)).toEqual(done);
    expect(seen.filter((action) => action === 'cancel')).toHaveLength(3);
    await expectError(await call('POST', '/jobs/unknown-job-id/cancel'), 404, 'JOB_NOT_FOUND');
    expect((await call('GET', `/jobs/${job.id}/cancel`)).status).toBe(405);
  });

  it('POST /jobs/ and GET /jobs/ (trailing slash) are the collection, like /jobs; so are /plugins/ and basePath "/"', async () => {
    const created = await call('POST', '/jobs/', { plugin: 'echo', input: { text: 'slash' } });
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobSnapshot;
    const list = (await (await call('GET', '/jobs/?limit=5')).json()) as { jobs: JobSnapshot[] };
    expect(list.jobs.map((j) => j.id)).toEqual([job.id]);
    const put = await call('PUT', '/jobs/');
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await call('GET', '/plugins/')).status).toBe(200);
    expect(await routes(new Request(`${ORIGIN}/jobs//`))).toBeUndefined();
    setup({ basePath: '/', pluginsPath: '/meta/plugins' });
    expect((await call('POST', '/', { plugin: 'echo', input: { text: 'root' } })).status).toBe(202);
    expect(((await (await call('GET', '/')).json()) as { jobs: unknown[] }).jobs).toHaveLength(1);
  });

  it('the SSE route reads the job once, and streams from that snapshot', async () => {
    const job = await submitEcho();
    await tracker.wait(job.id);
    const get = vi.spyOn(tracker, 'get');
    const finished = await call('GET', `/jobs/${job.id}/events`);
    expect(parseSSE(await finished.text()).events.map((e) => e.event)).toEqual(['queued', 'started', 'completed']);
    expect(get).toHaveBeenCalledTimes(1);
    const live = (await (await call('POST', '/jobs', { plugin: 'controlled', input: {} })).json()) as JobSnapshot;
    const run = await control.started(live.id);
    get.mockClear();
    const streaming = await call('GET', `/jobs/${live.id}/events`);
    run.done.resolve('ok');
    expect(parseSSE(await streaming.text()).events.map((e) => e.event)).toEqual(['queued', 'started', 'completed']);
    expect(get).toHaveBeenCalledTimes(1);
  });

  it('the docs\' authorize: another tenant\'s job answers exactly like a job that does not exist (no existence oracle)', async () => {
    const tenantOf = async (request: Request): Promise<string | undefined> => request.headers.get('x-tenant') ?? undefined;
    setup({
      // As in docs/http.md.
      authorize: async ({ request, action, job, body, query }) => {
        const tenant = await tenantOf(request);
        if (!tenant) return false;
        if (action === 'submit') return body?.tenantId === tenant;
        if (action === 'list') return query?.tenantId === tenant;
        if (job && job.tenantId !== tenant) throw new JobwireError('JOB_NOT_FOUND', 'Unknown job');
        return true;
      },
    });
    const theirs = await tracker.submit('controlled', {}, { tenantId: 'acme' });
    await control.started(theirs.id);
    const missing = 'AAAAAAAAAAAAAAAAAAAAAA';
    const as = { 'x-tenant': 'evil' };
    const shape = async (response: Response, id: string) => {
      const headers: string[] = [];
      response.headers.forEach((value, name) => headers.push(`${name}: ${value}`));
      return { status: response.status, headers, body: (await response.text()).replaceAll(id, '<id>') };
    };
    for (const [method, suffix] of [['GET', ''], ['HEAD', ''], ['DELETE', ''], ['POST', '/cancel'], ['GET', '/events'], ['GET', '/result']] as const) {
      const refused = await shape(await call(method, `/jobs/${theirs.id}${suffix}`, undefined, as), theirs.id);
      const absent = await shape(await call(method, `/jobs/${missing}${suffix}`, undefined, as), missing);
      expect(refused, `${method} ${suffix}`).toEqual(absent);
      expect(refused.status).toBe(404);
    }
    expect(JSON.parse((await shape(await call('GET', `/jobs/${theirs.id}`, undefined, as), theirs.id)).body)).toEqual({ error: { code: 'JOB_NOT_FOUND', message: 'Unknown job <id>' } });
    expect((await tracker.get(theirs.id))?.status).toBe('running'); // the refused DELETE and cancel did nothing
  });

  it('GET /jobs lists newest first with filters and cursor paging', async () => {
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await submitEcho(String(i), { tenantId: i % 2 ? 'odd' : 'even' })).id);
    await Promise.all(made.map((id) => tracker.wait(id)));
    const seen: string[] = [];
    let path = '/jobs?limit=2';
    for (;;) {
      const page = (await (await call('GET', path)).json()) as { jobs: JobSnapshot[]; nextCursor?: string };
      seen.push(...page.jobs.map((j) => j.id));
      if (!page.nextCursor) break;
      path = `/jobs?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen).toEqual([...made].reverse());
    const odd = (await (await call('GET', '/jobs?tenantId=odd&status=completed,failed&plugin=echo')).json()) as { jobs: JobSnapshot[] };
    expect(odd.jobs.map((j) => j.id)).toEqual([made[3], made[1]]);
    const both = (await (await call('GET', '/jobs?status=queued&status=completed')).json()) as { jobs: JobSnapshot[] };
    expect(both.jobs).toHaveLength(5);
    for (const bad of ['limit=abc', 'limit=-1', 'limit=0', 'status=bogus', 'cursor=zzz', 'sort=asc', 'tenantId=a&tenantId=b']) {
      await expectError(await call('GET', `/jobs?${bad}`), 400, 'INVALID_REQUEST');
    }
  });

  it('GET /jobs/:id/events streams SSE honouring Last-Event-ID', async () => {
    const job = await submitEcho();
    await tracker.wait(job.id);
    const response = await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': '1' });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const { events } = parseSSE(await response.text());
    expect(events.map((e) => e.event)).toEqual(['started', 'completed']);
    expect((await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': '3' })).status).toBe(204);
    await expectError(await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': 'x' }), 400, 'INVALID_REQUEST');
    await expectError(await call('GET', '/jobs/AAAAAAAAAAAAAAAAAAAAAA/events'), 404, 'JOB_NOT_FOUND');
  });

  it('GET /plugins lists PluginMeta with JSON Schemas, filterable by category', async () => {
    const all = (await (await call('GET', '/plugins')).json()) as { plugins: { name: string; inputSchema: { properties: Record<string, unknown> } }[] };
    expect(all.plugins.map((p) => p.name).sort()).toEqual(['controlled', 'echo']);
    const text = (await (await call('GET', '/plugins?category=text')).json()) as typeof all;
    expect(text.plugins.map((p) => p.name)).toEqual(['echo']);
    expect(text.plugins[0]!.inputSchema.properties.text).toMatchObject({ type: 'string', maxLength: 100 });
  });

  it('wrong methods are 405 with Allow; paths that are not ours are left alone', async () => {
    const put = await call('PUT', '/jobs');
    await expectError(put, 405, 'INVALID_REQUEST');
    expect(put.headers.get('allow')).toBe('GET, POST');
    expect((await call('POST', '/plugins', {})).headers.get('allow')).toBe('GET');
    expect((await call('PATCH', '/jobs/abc')).status).toBe(405);
    for (const path of ['/', '/other', '/jobsx', '/jobs/a/b/c', '/jobs/a/other']) expect(await routes(new Request(`${ORIGIN}${path}`))).toBeUndefined();
  });

  it('basePath and pluginsPath move the routes', async () => {
    setup({ basePath: '/api/v1/jobs/', pluginsPath: '/api/v1/plugins' });
    const response = await call('POST', '/api/v1/jobs', { plugin: 'echo', input: { text: 'x' } });
    expect(response.headers.get('location')).toMatch(/^\/api\/v1\/jobs\/[\w-]+$/);
    expect((await call('GET', '/api/v1/plugins')).status).toBe(200);
    expect(await routes(new Request(`${ORIGIN}/jobs`))).toBeUndefined();
    expect(() => createJobRoutes(tracker, { basePath: 'jobs' })).toThrow(/basePath/);
    expect(() => createJobRoutes(tracker, { maxBodyBytes: 0 })).toThrow(/maxBodyBytes/);
  });

  it('authorize sees each action with its job, body or query; false or a throw is 403 FORBIDDEN', async () => {
    const seen: AuthorizeContext[] = [];
    setup({
      authorize: (context) => {
        seen.push(context);
        const tenant = context.request.headers.get('x-tenant');
        if (context.action === 'submit') return context.body?.tenantId === tenant;
        if (context.action === 'list') return context.query?.tenantId === tenant;
        if (context.job) {
          if (context.job.tenantId !== tenant) throw new Error('other tenant');
          return true;
        }
        return true;
      },
    });
    const as = (tenant: string) => ({ 'x-tenant': tenant });
    const response = await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' }, tenantId: 'acme' }, as('acme'));
    const job = (await response.json()) as JobSnapshot;
    await expectError(await call('POST', '/jobs', { plugin: 'echo', input: { text: 'x' }, tenantId: 'acme' }, as('evil')), 403, 'FORBIDDEN');
    await expectError(await call('GET', `/jobs/${job.id}`, undefined, as('evil')), 403, 'FORBIDDEN');
    await expectError(await call('GET', `/jobs/${job.id}/events`, undefined, as('evil')), 403, 'FORBIDDEN');
    await expectError(await call('DELETE', `/jobs/${job.id}`, undefined, as('evil')), 403, 'FORBIDDEN');
    await expectError(await call('GET', '/jobs?tenantId=acme', undefined, as('evil')), 403, 'FORBIDDEN');
    expect((await call('GET', `/jobs/${job.id}`, undefined, as('acme'))).status).toBe(200);
    expect((await call('GET', '/plugins')).status).toBe(200);
    const actions = new Set(seen.map((c) => c.action));
    for (const action of ['submit', 'get', 'events', 'list', 'plugins'] as const) expect(actions).toContain(action);
    expect(actions.has('cancel') || actions.has('remove')).toBe(true);
    expect(seen.find((c) => c.action === 'get')?.job?.id).toBe(job.id);
    // A refused submit stored nothing.
    expect((await tracker.list()).jobs.map((j) => j.id)).toEqual([job.id]);
    // A JobwireError thrown by authorize keeps its code: here, hide that the job exists at all.
    setup({ authorize: () => Promise.reject(new JobwireError('JOB_NOT_FOUND', 'Unknown job')) });
    await expectError(await call('GET', '/plugins'), 404, 'JOB_NOT_FOUND');
  });

  it('an unexpected failure is a 500 that leaks nothing', async () => {
    const broken: PluginManager = {
      has: () => true,
      getMeta: () => undefined,
      list: () => {
        throw new Error('db password is hunter2');
      },
      validateInput: (_name, input) => input,
      execute: async () => undefined,
    };
    const logged: unknown[] = [];
    tracker = new JobTracker({ plugins: broken });
    routes = createJobRoutes(tracker, { logger: { debug() {}, info() {}, warn() {}, error: (obj) => logged.push(obj) } });
    const error = await expectError(await call('GET', '/plugins'), 500, 'INTERNAL');
    expect(error.message).not.toContain('hunter2');
    expect(logged).toHaveLength(1);
  });

  it('property: hostile requests get either no answer or a well-formed one, never a crash', async () => {
    const segment = fc.oneof(fc.constantFrom('jobs', 'plugins', 'events', '..', '%2e%2e', '%00', '%', '', 'AAAAAAAAAAAAAAAAAAAAAA'), fc.string({ maxLength: 8 }).map(encodeURIComponent));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('GET', 'POST', 'DELETE', 'PUT', 'HEAD', 'OPTIONS'),
        fc.array(segment, { minLength: 1, maxLength: 4 }),
        fc.oneof(fc.constant(undefined), fc.string({ maxLength: 50 }), fc.json({ maxDepth: 3 })),
        fc.dictionary(fc.constantFrom('status', 'limit', 'cursor', 'tenantId', 'x'), fc.string({ maxLength: 10 })),
        async (method, segments, body, query) => {
          const url = `${ORIGIN}/${segments.join('/')}?${new URLSearchParams(query).toString()}`;
          const init: RequestInit = { method, headers: { 'content-type': 'application/json' } };
          if (body !== undefined && method !== 'GET' && method !== 'HEAD') init.body = body;
          const response = await routes(new Request(url, init));
          if (response === undefined) return;
          if (response.status >= 400) {
            expect(ERROR_STATUSES).toContain(response.status);
            if (method !== 'HEAD') expect(((await response.json()) as ErrorBody).error.code).toMatch(/^[A-Z_]+$/);
          } else {
            expect([200, 202, 204]).toContain(response.status);
            await response.body?.cancel();
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
