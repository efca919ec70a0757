import { afterEach, describe, expect, it, vi } from 'vitest';
import { createJobClient, isJobwireError, JobwireError, type JobClient } from '../../src/client/index.js';
import { collect, rejection, until } from '../helpers/deferred.js';
import { startServer } from '../helpers/server.js';
import { count, transcribe, type AppPlugins } from './plugins.js';
import { startJobServer, type JobServer, type JobServerOptions } from './server.js';

/** The REST calls of `jobwire/client` against a real server: what each route answers, and its errors as JobwireErrors. */
describe('the client’s REST calls', () => {
  let server: JobServer;
  let client: JobClient<AppPlugins & { controlled: typeof server.control.plugin }>;

  async function setup(options: JobServerOptions = {}): Promise<void> {
    server = await startJobServer({ plugins: [transcribe, count], ...options });
    client = createJobClient({ baseUrl: server.url });
  }
  afterEach(() => server?.close());

  /** The JobwireError `promise` rejects with. */
  async function failure(promise: Promise<unknown>): Promise<JobwireError> {
    const error = await rejection(promise);
    if (!isJobwireError(error)) throw new Error(`expected a JobwireError, got ${String(error)}`);
    return error;
  }

  it('submit, get, list, output, plugins', async () => {
    await setup();
    const job = await client.submit('count', { to: 3 }, { tenantId: 'acme', metadata: { by: 'test' } });
    expect(job).toMatchObject({ plugin: 'count', status: 'queued', input: { to: 3 }, tenantId: 'acme', metadata: { by: 'test' } });
    const done = await server.tracker.wait(job.id);
    expect(await client.get(job.id)).toEqual(done);
    expect(await client.get('no-such-job')).toBeUndefined();
    const other = await client.submit('transcribe', { audio: 'a.wav' });
    await server.tracker.wait(other.id);
    expect((await client.list()).jobs.map((listed) => listed.id)).toEqual([other.id, job.id]);
    expect((await client.list({ tenantId: 'acme', status: ['completed', 'failed'] })).jobs.map((listed) => listed.id)).toEqual([job.id]);
    const first = await client.list({ limit: 1 });
    expect(first.jobs).toHaveLength(1);
    expect((await client.list({ limit: 1, cursor: first.nextCursor! })).jobs.map((listed) => listed.id)).toEqual([job.id]);
    expect(await client.output(job.id)).toEqual({ chunks: [{ n: 1 }, { n: 2 }, { n: 3 }], gap: false, lastSeq: 5 });
    expect((await client.plugins()).map((meta) => meta.name)).toEqual(['controlled', 'transcribe', 'count']);
  });

  it('cancel with a reason never deletes; retry re-runs a cancelled job as a new one', async () => {
    await setup();
    const job = await client.submit('controlled', {});
    await server.control.started(job.id);
    const cancelled = await client.cancel(job.id, 'not needed');
    expect(cancelled).toMatchObject({ id: job.id, status: 'cancelled', error: { code: 'CANCELLED', message: 'not needed' } });
    expect(await client.cancel(job.id)).toEqual(cancelled); // too late: the same job, as it ended
    const again = await client.retry(job.id);
    expect(again).toMatchObject({ plugin: 'controlled', retryOf: job.id, status: 'queued' });
    expect(again.id).not.toBe(job.id);
    (await server.control.started(again.id)).done.resolve('ok');
    expect((await failure(client.retry((await server.tracker.wait(again.id)).id))).code).toBe('INVALID_REQUEST'); // a completed job is not re-run
  });

  it('errors carry the server’s code, message and details', async () => {
    await setup();
    const invalid = await failure(client.submit('count', { to: 0 }));
    expect(invalid.code).toBe('INVALID_INPUT');
    expect(invalid.details).toEqual([expect.objectContaining({ path: ['to'], code: 'too_small' })]);
    expect((await failure(client.submit('resize' as 'count', { to: 1 }))).code).toBe('PLUGIN_NOT_FOUND');
    const unknown = await failure(client.cancel('no-such-job'));
    expect([unknown.code, unknown.message]).toEqual(['JOB_NOT_FOUND', 'Unknown job no-such-job']);
    expect((await failure(client.output('no-such-job'))).code).toBe('JOB_NOT_FOUND');
    expect((await failure(client.list({ limit: 0.5 }))).code).toBe('INVALID_REQUEST');
  });

  it('headers go with every request; a function is called for each one', async () => {
    const seen: (string | null)[] = [];
    await setup({ routes: { authorize: ({ request }) => void seen.push(request.headers.get('authorization')) } });
    let token = 0;
    const authed = createJobClient({ baseUrl: server.url, headers: () => ({ authorization: `Bearer ${++token}` }) });
    await authed.plugins();
    await authed.list();
    expect(seen).toEqual(['Bearer 1', 'Bearer 2']);
    const fixed = createJobClient({ baseUrl: server.url, headers: new Headers({ authorization: 'Bearer fixed' }) });
    await fixed.plugins();
    expect(seen.at(-1)).toBe('Bearer fixed');
    await server.close();
    await setup({ routes: { authorize: ({ request }) => request.headers.get('authorization') !== 'none' } });
    const forbidden = await failure(createJobClient({ baseUrl: server.url, headers: [['authorization', 'none']] }).plugins());
    expect([forbidden.code, forbidden.message]).toEqual(['FORBIDDEN', 'Forbidden']);
  });

  it('routes mounted below a prefix, at other paths', async () => {
    await setup({ routes: { basePath: '/api/v1/jobs', pluginsPath: '/api/v1/plugins', resultsPath: '/api/v1/results', schedulesPath: '/api/v1/schedules' } });
    for (const baseUrl of [`${server.url}/api/v1`, `${server.url}/api/v1/`, new URL('/api/v1', server.url)]) {
      const prefixed = createJobClient<AppPlugins>({ baseUrl });
      const job = await prefixed.submit('transcribe', { audio: 'b.wav' });
      expect((await prefixed.get(job.id))?.id).toBe(job.id);
      expect((await prefixed.plugins()).length).toBe(3);
    }
    const custom = createJobClient({ baseUrl: server.url, basePath: '/api/v1/jobs/', pluginsPath: '/api/v1/plugins' });
    expect((await custom.plugins()).length).toBe(3);
    expect((await custom.list()).jobs).toHaveLength(3);
  });

  it('a relative baseUrl resolves against the page’s location, and is INVALID_CONFIG without one', async () => {
    await setup();
    const relative = createJobClient({ baseUrl: '/' });
    const error = await failure(relative.plugins());
    expect(error.code).toBe('INVALID_CONFIG');
    vi.stubGlobal('location', new URL(`${server.url}/app/page?x=1`));
    try {
      expect((await relative.plugins()).length).toBe(3);
    } finally {
      vi.unstubAllGlobals();
    }
    expect(() => createJobClient({ baseUrl: '/', basePath: 'jobs' })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
    expect(() => createJobClient({ baseUrl: 42 as unknown as string })).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error);
  });

  it('a basePath or pluginsPath that could lead to another host (`//`, `\\`, a scheme, control characters) is INVALID_CONFIG', async () => {
    const invalid = expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error;
    for (const path of ['//evil.example/jobs', '///evil.example', '/\\evil.example', '\\\\evil.example', '/jobs\\x', 'https://evil.example/jobs', '/\t/evil.example', '/\n/evil.example', 'jobs', '', 42]) {
      expect(() => createJobClient({ baseUrl: 'http://api.test', basePath: path as string }), JSON.stringify(path)).toThrow(invalid);
      expect(() => createJobClient({ baseUrl: 'http://api.test', pluginsPath: path as string }), JSON.stringify(path)).toThrow(invalid);
    }
    // Paths that stay on the API's host are fine, whatever the baseUrl's own path.
    const urls: string[] = [];
    const recording = (baseUrl: string, basePath: string, pluginsPath = '/plugins') =>
      createJobClient({ baseUrl, basePath, pluginsPath, fetch: async (input) => (urls.push(String(input)), Response.json({ jobs: [], plugins: [] })) });
    await recording('http://api.test', '/').list();
    await recording('http://api.test/', '/jobs', '/a:b/plugins').plugins();
    await recording('http://api.test/v1?x=1#top', '/jobs').list({ limit: 5 });
    expect(urls).toEqual(['http://api.test/', 'http://api.test/a:b/plugins', 'http://api.test/v1/jobs?limit=5']);
  });

  it('UNAVAILABLE for a server that cannot be reached, a 5xx without JSON, an HTTP-only code, or a 2xx that is not JSON', async () => {
    const gone = await startServer((_req, res) => res.end());
    await gone.close();
    const unreachable = await failure(createJobClient({ baseUrl: gone.url }).plugins());
    expect(unreachable.code).toBe('UNAVAILABLE');
    expect(unreachable.message).toBe(`Could not reach ${gone.url}`);
    expect(unreachable.cause).toBeInstanceOf(TypeError);

    const answer = (response: () => Response) => createJobClient({ baseUrl: 'http://api.test', fetch: async () => response() });
    const badGateway = await failure(answer(() => new Response('<h1>Bad gateway</h1>', { status: 502 })).list());
    expect([badGateway.code, badGateway.details]).toEqual(['UNAVAILABLE', { status: 502 }]);
    const internal = await failure(answer(() => Response.json({ error: { code: 'INTERNAL', message: 'Internal server error' } }, { status: 500 })).list());
    expect([internal.code, internal.message, internal.details]).toEqual(['UNAVAILABLE', 'Internal server error', { status: 500, code: 'INTERNAL' }]);
    const noRoute = await failure(answer(() => Response.json({ error: { code: 'NOT_FOUND', message: 'Not found' } }, { status: 404 })).list());
    expect([noRoute.code, noRoute.details]).toEqual(['INVALID_REQUEST', { status: 404, code: 'NOT_FOUND' }]);
    expect((await failure(answer(() => new Response('<!doctype html>', { status: 200 })).list())).code).toBe('UNAVAILABLE');
    const closing = await failure(answer(() => Response.json({ error: { code: 'CLOSED', message: 'Tracker is closed' } }, { status: 503 })).list());
    expect(closing.code).toBe('CLOSED');
  });

  it('a 404 or 405 that no jobwire route gave (nothing mounted at baseUrl + basePath) says where the routes were looked for', async () => {
    await setup({ routes: { basePath: '/api/jobs', pluginsPath: '/api/plugins' } });
    const wrong = createJobClient({ baseUrl: server.url, reconnect: { initialDelayMs: 1 } }); // forgot '/api'
    const hint = `is createJobRoutes mounted at ${server.url}/jobs?`;
    // jobwire's node handler answers NOT_FOUND, a code only the HTTP layer has, for a path not its own.
    const listed = await failure(wrong.list());
    expect([listed.code, listed.details]).toEqual(['INVALID_REQUEST', { status: 404, code: 'NOT_FOUND' }]);
    expect(listed.message).toBe(`Not found (not an answer of jobwire's routes: ${hint})`);
    const followed = await failure(collect(wrong.follow('abc')));
    expect([followed.code, followed.message.endsWith(`(not an answer of jobwire's routes: ${hint})`)]).toEqual(['INVALID_REQUEST', true]);
    const plugins = await failure(wrong.plugins());
    expect(plugins.message.endsWith(`(not an answer of jobwire's routes: is createJobRoutes mounted at ${server.url}/jobs, with its pluginsPath at ${server.url}/plugins?)`)).toBe(true);
    // Mounted there, a 404 is jobwire's own: no hint.
    const right = createJobClient({ baseUrl: `${server.url}/api` });
    const unknown = await failure(right.cancel('no-such-job'));
    expect([unknown.code, unknown.message]).toEqual(['JOB_NOT_FOUND', 'Unknown job no-such-job']);

    // Another server's 404 or 405 page (a framework's, a static file server's).
    const page = (status: number) =>
      createJobClient({ baseUrl: 'http://app.test/api', fetch: async (input) => Object.defineProperty(new Response('<h1>Not here</h1>', { status }), 'url', { value: String(input) }) });
    const notFound = await failure(page(404).submit('transcribe', {}));
    expect([notFound.code, notFound.message, notFound.details]).toEqual([
      'INVALID_REQUEST',
      "HTTP 404 from http://app.test/api/jobs (not an answer of jobwire's routes: is createJobRoutes mounted at http://app.test/api/jobs?)",
      { status: 404 },
    ]);
    const notAllowed = await failure(page(405).submit('transcribe', {}));
    expect([notAllowed.code, notAllowed.message]).toEqual(['INVALID_REQUEST', "HTTP 405 from http://app.test/api/jobs (not an answer of jobwire's routes: is createJobRoutes mounted at http://app.test/api/jobs?)"]);
    // Other statuses say nothing of where the routes are.
    expect((await failure(page(400).submit('transcribe', {}))).message).toBe('HTTP 400 from http://app.test/api/jobs');
  });

  it('wait: the terminal snapshot with its result; a failed job is returned, not thrown; an abort rejects with CANCELLED', async () => {
    await setup();
    const job = await client.submit('transcribe', { audio: 'c.wav' });
    const done = await client.wait(job);
    expect(done).toMatchObject({ id: job.id, status: 'completed', result: { text: '(transcript of c.wav in en)' } });
    // A job already ended is returned as it is, without a request.
    const before = server.streams.length;
    expect(await client.wait(done)).toBe(done);
    expect(server.streams).toHaveLength(before);

    const running = await client.submit('controlled', {});
    const run = await server.control.started(running.id);
    const waiting = client.wait(running.id);
    await until(() => server.streams.length > before, 5_000, 'the wait to follow the job');
    run.done.reject(new Error('no luck'));
    expect(await waiting).toMatchObject({ id: running.id, status: 'failed', error: { code: 'PLUGIN_FAILED', message: 'no luck' } });

    const stuck = await client.submit('controlled', {});
    await server.control.started(stuck.id);
    const controller = new AbortController();
    const aborted = failure(client.wait(stuck.id, { signal: controller.signal }));
    controller.abort(new Error('page closed'));
    const error = await aborted;
    expect([error.code, (error.cause as Error).message]).toEqual(['CANCELLED', 'page closed']);
    expect((await failure(client.wait('no-such-job'))).code).toBe('JOB_NOT_FOUND');
  });

  it('wait(id) of a job that ended reads it and returns at once, without reading its events', async () => {
    await setup();
    const job = await client.submit('count', { to: 50 });
    const ended = await server.tracker.wait(job.id);
    const before = server.streams.length;
    expect(await client.wait(job.id)).toEqual(ended);
    expect(server.streams).toHaveLength(before);
  });
});
