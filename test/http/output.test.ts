import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { JobTracker, JobwireError, LocalPluginManager, type JobOutput, type JobSnapshot } from '../../src/index.js';
import { createJobRoutes, type AuthorizeContext, type JobRoutesOptions } from '../../src/http/index.js';
import { chunkCost } from '../../src/backend/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';
import { ORIGIN, routeCaller } from '../helpers/route-call.js';
import { parseSSE } from '../helpers/sse.js';

describe('GET /jobs/:id/output', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let routes: (request: Request) => Promise<Response | undefined>;

  function setup(options: JobRoutesOptions = {}, outputLimitBytes?: number): void {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), ...(outputLimitBytes === undefined ? {} : { outputLimitBytes }) });
    routes = createJobRoutes(tracker, options);
  }
  const call = routeCaller(() => routes);

  /** A job that is running and has written `chunks` (each in its own append). */
  async function writing(chunks: unknown[]): Promise<{ job: JobSnapshot; run: Awaited<ReturnType<typeof control.started>> }> {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    for (const chunk of chunks) {
      const before = (await tracker.output(job.id)).lastSeq;
      run.ctx.write(chunk);
      await until(async () => (await tracker.output(job.id)).lastSeq > before, 5_000, 'the chunk to be written');
    }
    return { job, run };
  }

  async function output(id: string): Promise<JobOutput> {
    const response = await call('GET', `/jobs/${id}/output`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/json; charset=utf-8');
    return (await response.json()) as JobOutput;
  }

  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  it('200 with the retained chunks while the job runs and after it ended; a job that wrote nothing has none', async () => {
    const { job, run } = await writing(['Hello', { start: 0, end: 1.2, text: 'world' }, [1, 2, 3], null]);
    expect(await output(job.id)).toEqual({ chunks: ['Hello', { start: 0, end: 1.2, text: 'world' }, [1, 2, 3], null], gap: false, lastSeq: 6 });
    run.ctx.write(' again');
    run.done.resolve({ ok: true });
    await tracker.wait(job.id);
    expect(await output(job.id)).toEqual({ chunks: ['Hello', { start: 0, end: 1.2, text: 'world' }, [1, 2, 3], null, ' again'], gap: false, lastSeq: 7 });
    expect(await output(job.id)).toEqual(await tracker.output(job.id));
    const silent = await tracker.submit('controlled', {});
    (await control.started(silent.id)).done.resolve(null);
    await tracker.wait(silent.id);
    expect(await output(silent.id)).toEqual({ chunks: [], gap: false, lastSeq: 0 });
  });

  it('gap: true and the newest chunks once the output went past outputLimitBytes', async () => {
    await tracker.close({ timeoutMs: 0 });
    setup({}, 256);
    const written = Array.from({ length: 12 }, (_, i) => `chunk-${String(i).padStart(2, '0')}`); // 10 bytes of JSON each, 74 with the chunk cost
    const { job } = await writing(written);
    const { chunks, gap, lastSeq } = await output(job.id);
    expect(gap).toBe(true);
    expect(lastSeq).toBe(14);
    expect(chunks.length).toBeGreaterThan(0);
    expect(chunks).toEqual(written.slice(written.length - chunks.length)); // the newest part, whole chunks
    expect(chunks.reduce<number>((sum, chunk) => sum + chunkCost(JSON.stringify(chunk)), 0)).toBeLessThanOrEqual(256);
  });

  it('404 JOB_NOT_FOUND for an unknown, malformed or removed job; 405 for another method', async () => {
    for (const id of ['AAAAAAAAAAAAAAAAAAAAAA', '%2e%2e%2fetc', 'x'.repeat(300)]) {
      const response = await call('GET', `/jobs/${id}/output`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } });
    }
    const { job, run } = await writing(['a']);
    run.done.resolve(null);
    await tracker.wait(job.id);
    await tracker.remove(job.id);
    expect((await call('GET', `/jobs/${job.id}/output`)).status).toBe(404);
    for (const method of ['POST', 'DELETE', 'PUT']) {
      const response = await call(method, `/jobs/${job.id}/output`);
      expect(response.status).toBe(405);
      expect(response.headers.get('allow')).toBe('GET');
    }
    expect(await routes(new Request(`${ORIGIN}/jobs/${job.id}/output/more`))).toBeUndefined(); // not a route of ours
  });

  it('authorize is asked with action `output` and the job; false → 403, JOB_NOT_FOUND → the same 404 as an unknown job', async () => {
    const seen: Pick<AuthorizeContext, 'action' | 'job'>[] = [];
    let verdict: 'allow' | 'deny' | 'hide' = 'allow';
    await tracker.close({ timeoutMs: 0 });
    setup({
      authorize: ({ action, job }) => {
        seen.push({ action, ...(job && { job }) });
        if (verdict === 'hide') throw new JobwireError('JOB_NOT_FOUND', 'not yours');
        return verdict === 'allow';
      },
    });
    const { job } = await writing(['secret']);
    expect((await output(job.id)).chunks).toEqual(['secret']);
    expect(seen.at(-1)).toMatchObject({ action: 'output', job: { id: job.id, status: 'running' } });
    verdict = 'deny';
    const denied = await call('GET', `/jobs/${job.id}/output`);
    expect(denied.status).toBe(403);
    expect(await denied.json()).toMatchObject({ error: { code: 'FORBIDDEN' } });
    verdict = 'hide';
    const hidden = await call('GET', `/jobs/${job.id}/output`);
    const unknown = await call('GET', '/jobs/AAAAAAAAAAAAAAAAAAAAAA/output');
    expect([hidden.status, await hidden.json()]).toEqual([404, { error: { code: 'JOB_NOT_FOUND', message: `Unknown job ${job.id}` } }]);
    expect(unknown.status).toBe(404);
  });

  it('the events route carries the same output as `event: output` frames; Last-Event-ID resumes after them', async () => {
    const { job, run } = await writing(['a\n', { b: 2 }]);
    run.done.resolve(null);
    await tracker.wait(job.id);
    const { events } = parseSSE(await (await call('GET', `/jobs/${job.id}/events`)).text());
    expect(events.map((e) => [e.id, e.event])).toEqual([
      ['1', 'queued'],
      ['2', 'started'],
      ['3', 'output'],
      ['4', 'output'],
      ['5', 'completed'],
    ]);
    expect(events.filter((e) => e.event === 'output').map((e) => (JSON.parse(e.data) as { chunk: unknown }).chunk)).toEqual((await output(job.id)).chunks);
    const resumed = parseSSE(await (await call('GET', `/jobs/${job.id}/events`, undefined, { 'last-event-id': '3' })).text());
    expect(resumed.events.map((e) => e.id)).toEqual(['4', '5']);
  });
});
