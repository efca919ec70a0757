import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, JobwireError, LocalPluginManager, MemoryResultStorage, type JobSnapshot, type StoredResult } from '../../src/index.js';
import { createJobRoutes, type AuthorizeContext, type HttpErrorBody, type JobRoutesOptions } from '../../src/http/index.js';
import { controlledPlugin } from '../helpers/controlled.js';

const ORIGIN = 'http://jobs.test';

const echo = definePlugin({ name: 'echo', title: 'Echo', version: '1.2.3', input: z.object({ text: z.string() }), run: async (input) => ({ text: input.text }) });

describe('GET /jobs/:id/result and GET /results', () => {
  let tracker: JobTracker;
  let storage: MemoryResultStorage | undefined;
  let control: ReturnType<typeof controlledPlugin>;
  let routes: (request: Request) => Promise<Response | undefined>;

  function setup(options: JobRoutesOptions = {}, withStorage = true, concurrency = 5): void {
    control = controlledPlugin();
    storage = withStorage ? new MemoryResultStorage() : undefined;
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin), concurrency, ...(storage && { storage }) });
    routes = createJobRoutes(tracker, options);
  }
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  async function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Response> {
    const response = await routes(new Request(`${ORIGIN}${path}`, { method, headers }));
    if (!response) throw new Error(`${path} was not handled`);
    return response;
  }

  async function errorOf(response: Response, status: number): Promise<HttpErrorBody['error']> {
    expect(response.status).toBe(status);
    return ((await response.json()) as HttpErrorBody).error;
  }

  async function finished(text: string, tenantId?: string): Promise<JobSnapshot> {
    const job = await tracker.submit('echo', { text }, tenantId === undefined ? {} : { tenantId });
    return tracker.wait(job.id);
  }

  it('a live completed job: its result as a StoredResult, the same record the storage saved', async () => {
    setup();
    const job = await finished('hi', 'acme');
    const response = await get(`/jobs/${job.id}/result`);
    expect(response.status).toBe(200);
    const result = (await response.json()) as StoredResult;
    expect(result).toEqual(await storage!.get(job.id));
    expect(result).toMatchObject({
      jobId: job.id,
      plugin: { name: 'echo', title: 'Echo', version: '1.2.3' },
      input: { text: 'hi' },
      result: { text: 'hi' },
      tenantId: 'acme',
      metadata: {},
      createdAt: job.createdAt,
      finishedAt: job.finishedAt,
      durationMs: Date.parse(job.finishedAt!) - Date.parse(job.startedAt!),
    });
  });

  it('a job that wrote output: the live result keeps it as the storage did (the text, or the chunks), and after the job is gone too', async () => {
    setup();
    for (const [written, output] of [
      [['Hel', 'lo', '\n'], { text: 'Hello\n' }],
      [[{ start: 0, end: 1, text: 'a' }, 'b'], { chunks: [{ start: 0, end: 1, text: 'a' }, 'b'] }],
    ] as const) {
      const job = await tracker.submit('controlled', {});
      const run = await control.started(job.id);
      for (const chunk of written) run.ctx.write(chunk);
      run.done.resolve({ ok: true });
      await tracker.wait(job.id);
      const live = (await (await get(`/jobs/${job.id}/result`)).json()) as StoredResult;
      expect(live.output).toEqual(output);
      expect(live).toEqual(await storage!.get(job.id));
      await tracker.remove(job.id);
      expect(((await (await get(`/jobs/${job.id}/result`)).json()) as StoredResult).output).toEqual(output);
    }
    // A job that wrote nothing has no `output` at all.
    expect(await (await get(`/jobs/${(await finished('quiet')).id}/result`)).json()).not.toHaveProperty('output');
  });

  it('without a storage, a live completed job still has its result', async () => {
    setup({}, false);
    const job = await finished('no storage');
    const result = (await (await get(`/jobs/${job.id}/result`)).json()) as StoredResult;
    expect(result).toMatchObject({ jobId: job.id, plugin: { name: 'echo' }, result: { text: 'no storage' } });
    expect(result).not.toHaveProperty('tenantId');
  });

  it('a job that is gone: its result from the storage; nothing anywhere is JOB_NOT_FOUND', async () => {
    setup();
    const job = await finished('kept');
    const saved = await storage!.get(job.id);
    await tracker.remove(job.id);
    expect(await tracker.get(job.id)).toBeUndefined();
    expect(await (await get(`/jobs/${job.id}/result`)).json()).toEqual(saved);
    expect(await errorOf(await get('/jobs/AAAAAAAAAAAAAAAAAAAAAA/result'), 404)).toEqual({ code: 'JOB_NOT_FOUND', message: 'Unknown job AAAAAAAAAAAAAAAAAAAAAA' });
    expect((await errorOf(await get('/jobs/..%2f..%2fetc/result'), 404)).code).toBe('JOB_NOT_FOUND');
  });

  it('a job without a result (queued, running, failed, cancelled) is 404 RESULT_NOT_FOUND naming its status', async () => {
    setup({}, true, 1);
    const running = await tracker.submit('controlled', {});
    const run = await control.started(running.id);
    const queued = await tracker.submit('controlled', {});
    const expectNoResult = async (id: string, status: string): Promise<void> => {
      const error = await errorOf(await get(`/jobs/${id}/result`), 404);
      expect(error).toEqual({ code: 'RESULT_NOT_FOUND', message: `Job ${id} is ${status} and has no result`, details: { status } });
    };
    await expectNoResult(running.id, 'running');
    await expectNoResult(queued.id, 'queued');
    run.done.reject(new Error('boom'));
    expect((await tracker.wait(running.id)).status).toBe('failed');
    await expectNoResult(running.id, 'failed');
    await tracker.cancel(queued.id);
    await expectNoResult(queued.id, 'cancelled');
  });

  it('authorize sees action `result` with the job and the result, or the stored result alone once the job is gone', async () => {
    const seen: AuthorizeContext[] = [];
    setup({
      authorize: (context) => {
        seen.push(context);
        const tenant = context.request.headers.get('x-tenant');
        const owner = context.job?.tenantId ?? context.result?.tenantId;
        if (context.action === 'result' && owner !== tenant) throw new JobwireError('JOB_NOT_FOUND', 'not yours');
        return true;
      },
    });
    const job = await finished('secret', 'acme');
    expect((await get(`/jobs/${job.id}/result`, { 'x-tenant': 'acme' })).status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ action: 'result', job: { id: job.id }, result: { jobId: job.id, tenantId: 'acme' } });
    await tracker.remove(job.id);
    expect((await get(`/jobs/${job.id}/result`, { 'x-tenant': 'acme' })).status).toBe(200);
    expect(seen.at(-1)!.job).toBeUndefined();
    expect(seen.at(-1)!.result).toMatchObject({ jobId: job.id, tenantId: 'acme' });
    // Another tenant cannot tell the stored result from nothing at all.
    const refused = await get(`/jobs/${job.id}/result`, { 'x-tenant': 'evil' });
    expect(await errorOf(refused, 404)).toEqual({ code: 'JOB_NOT_FOUND', message: `Unknown job ${job.id}` });
  });

  it('authorize runs before a job without a result is reported (its status stays hidden from others)', async () => {
    setup({ authorize: ({ action }) => action !== 'result' });
    const job = await tracker.submit('controlled', {});
    await control.started(job.id);
    expect((await errorOf(await get(`/jobs/${job.id}/result`), 403)).code).toBe('FORBIDDEN');
  });

  it('the result route answers GET and HEAD only', async () => {
    setup();
    const job = await finished('x');
    const post = await get(`/jobs/${job.id}/result`, {}, 'POST');
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET');
    expect((await get(`/jobs/${job.id}/result`, {}, 'HEAD')).status).toBe(200);
  });

  it('GET /results lists the storage newest first, with filters and cursor paging', async () => {
    setup();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await finished(String(i), i % 2 ? 'odd' : 'even')).id);
    await tracker.remove(ids[0]!); // a stored result outlives its job
    const seen: string[] = [];
    let path = '/results?limit=2';
    for (;;) {
      const page = (await (await get(path)).json()) as { results: StoredResult[]; nextCursor?: string };
      expect(page.results.length).toBeLessThanOrEqual(2);
      seen.push(...page.results.map((r) => r.jobId));
      if (!page.nextCursor) break;
      path = `/results?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`;
    }
    expect(seen).toEqual([...ids].reverse());
    const odd = (await (await get('/results?tenantId=odd&plugin=echo')).json()) as { results: StoredResult[] };
    expect(odd.results.map((r) => r.jobId)).toEqual([ids[3], ids[1]]);
    expect(((await (await get('/results/?plugin=other')).json()) as { results: unknown[] }).results).toEqual([]);
  });

  it('GET /results refuses unknown, repeated or malformed parameters with 400', async () => {
    setup();
    for (const bad of ['status=completed', 'workspaceId=w', 'x=1', 'limit=abc', 'limit=0', 'limit=1&limit=2', 'tenantId=a&tenantId=b', 'cursor=zzz']) {
      expect((await errorOf(await get(`/results?${bad}`), 400)).code, bad).toBe('INVALID_REQUEST');
    }
    expect((await get('/results', {}, 'POST')).headers.get('allow')).toBe('GET');
  });

  it('authorize sees action `results` with the parsed query', async () => {
    const seen: AuthorizeContext[] = [];
    setup({ authorize: (context) => (seen.push(context), context.action !== 'results' || context.query?.tenantId === 'acme') });
    await finished('a', 'acme');
    expect((await get('/results?tenantId=acme&limit=5')).status).toBe(200);
    expect(seen.at(-1)).toMatchObject({ action: 'results', query: { tenantId: 'acme', limit: 5 } });
    expect((await errorOf(await get('/results'), 403)).code).toBe('FORBIDDEN');
  });

  it('without a storage /results is not mounted; resultsPath moves it', async () => {
    setup({}, false);
    expect(await routes(new Request(`${ORIGIN}/results`))).toBeUndefined();
    setup({ resultsPath: '/api/stored/' });
    expect(await routes(new Request(`${ORIGIN}/results`))).toBeUndefined();
    expect((await get('/api/stored')).status).toBe(200);
    expect(() => createJobRoutes(tracker, { resultsPath: '/plugins' })).toThrow(/must differ/);
    expect(() => createJobRoutes(tracker, { resultsPath: 'results' })).toThrow(/resultsPath/);
  });
});
