import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager, MemoryResultStorage, type JobSnapshot, type JobStats } from 'jobwire';
import { createDashboard, type DashboardOptions } from 'jobwire/dashboard';
import type { AuthorizeContext } from 'jobwire/http';
import { dashboardPlugins, Gates, startDashboard, type DashboardServer } from './fixture.js';

const ORIGIN = 'http://dash.test';
const builtScript = readFileSync(resolve(import.meta.dirname, '../../dist/dashboard/app.js'), 'utf8');

function trackerWithPlugins(): { tracker: JobTracker; gates: Gates } {
  const gates = new Gates();
  const { render, email, importer } = dashboardPlugins(gates);
  // With a result storage, so that the job routes would have results to list.
  const plugins = new LocalPluginManager().register(render).register(email).register(importer);
  return { tracker: new JobTracker({ plugins, storage: new MemoryResultStorage() }), gates };
}

const trackers: JobTracker[] = [];
afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.close({ timeoutMs: 0 })));
});

/** A dashboard that lets everyone in, unless `options` says who may. */
function dashboard(options: Partial<DashboardOptions> = {}) {
  const { tracker, gates } = trackerWithPlugins();
  trackers.push(tracker);
  return { tracker, gates, handler: createDashboard(tracker, { authorize: () => true, ...options }) };
}

const errorCodeOf = async (response: Response | undefined): Promise<string | undefined> => ((await response?.json()) as { error?: { code?: string } } | undefined)?.error?.code;

const get = (handler: (request: Request) => Promise<Response | undefined>, path: string, init: RequestInit = {}) => handler(new Request(`${ORIGIN}${path}`, init));

describe('createDashboard options', () => {
  const allowAll = () => true;
  it.each<[string, DashboardOptions]>([
    ['a basePath without a leading slash', { authorize: allowAll, basePath: 'jobwire' }],
    ['a basePath with a dot segment', { authorize: allowAll, basePath: '/ops/../jobwire' }],
    ['a basePath with a quote', { authorize: allowAll, basePath: '/job"wire' }],
    ['a basePath with a space', { authorize: allowAll, basePath: '/job wire' }],
    ['an empty title', { authorize: allowAll, title: '  ' }],
    ['a title over 100 characters', { authorize: allowAll, title: 'x'.repeat(101) }],
  ])('refuses %s with INVALID_CONFIG', (_name, options) => {
    const { tracker } = trackerWithPlugins();
    trackers.push(tracker);
    expect(() => createDashboard(tracker, options)).toThrow(expect.objectContaining({ name: 'JobwireError', code: 'INVALID_CONFIG' }));
  });

  it.each<[string, unknown]>([
    ['no options at all', undefined],
    ['options without authorize', { title: 'Ops' }],
    ['an authorize left undefined', { authorize: undefined }],
    ['an authorize that is not a function', { authorize: 'yes' }],
    ['an authorize of true', { authorize: true }],
  ])('needs an authorize function: refuses %s with INVALID_CONFIG, saying how to let everyone in knowingly', (_name, options) => {
    const { tracker } = trackerWithPlugins();
    trackers.push(tracker);
    const create = () => (createDashboard as (tracker: JobTracker, options?: unknown) => unknown)(tracker, options);
    expect(create).toThrow(expect.objectContaining({ name: 'JobwireError', code: 'INVALID_CONFIG' }));
    expect(create).toThrow(/`authorize`[\s\S]*authorize: \(\) => true/);
  });
});

describe('the page and its assets', () => {
  it('serves the HTML shell at basePath and basePath/, with no data and no inline script', async () => {
    const { tracker, handler } = dashboard({ title: 'Ops <&> "jobs"' });
    const job = await tracker.submit('send-email', { to: 'a@b.test' }, { tenantId: 'acme' });
    for (const path of ['/jobwire', '/jobwire/', '/jobwire?status=failed']) {
      const response = await get(handler, path);
      expect(response?.status).toBe(200);
      expect(response?.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(response?.headers.get('cache-control')).toBe('no-cache');
      expect(response?.headers.get('content-security-policy')).toContain("script-src 'self'");
      expect(response?.headers.get('referrer-policy')).toBe('no-referrer');
      const html = await response!.text();
      expect(html).toContain('<base href="/jobwire/">');
      expect(html).toContain('<title>Ops &lt;&amp;&gt; &quot;jobs&quot;</title>');
      expect(html).toMatch(/<script type="module" src="assets\/app\.js\?v=[\w-]{16}"><\/script>/);
      expect(html).toMatch(/<link rel="stylesheet" href="assets\/app\.css\?v=[\w-]{16}">/);
      expect(html).not.toContain(job.id);
      expect(html).not.toContain('acme');
      expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script has a src
    }
    const head = await get(handler, '/jobwire/', { method: 'HEAD' });
    expect(head?.status).toBe(200);
    expect(await head!.text()).toBe('');
  });

  it('serves the built page script with an ETag, cached for good under its current version only', async () => {
    const { handler } = dashboard();
    const html = await (await get(handler, '/jobwire'))!.text();
    const version = /app\.js\?v=([\w-]+)/.exec(html)![1]!;

    const plain = await get(handler, '/jobwire/assets/app.js');
    expect(plain?.status).toBe(200);
    expect(plain?.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain?.headers.get('cache-control')).toBe('no-cache');
    expect(await plain!.text()).toBe(builtScript);
    const etag = plain!.headers.get('etag')!;
    expect(etag).toBe(`"${version}"`);

    const pinned = await get(handler, `/jobwire/assets/app.js?v=${version}`);
    expect(pinned?.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const stale = await get(handler, '/jobwire/assets/app.js?v=older');
    expect(stale?.headers.get('cache-control')).toBe('no-cache');

    const revalidated = await get(handler, '/jobwire/assets/app.js', { headers: { 'if-none-match': `W/${etag}` } });
    expect(revalidated?.status).toBe(304);
    expect(await revalidated!.text()).toBe('');
  });

  it('serves the stylesheet the same way', async () => {
    const { handler } = dashboard();
    const response = await get(handler, '/jobwire/assets/app.css');
    expect(response?.status).toBe(200);
    expect(response?.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await response!.text()).toContain('prefers-color-scheme: dark');
  });

  it('answers undefined for paths that are not its own', async () => {
    const { handler } = dashboard();
    for (const path of ['/', '/jobs', '/jobwire-x', '/jobwire/other', '/jobwire/assets/other.js', '/jobwire/apix', '/jobwire/apis/jobs']) {
      expect(await get(handler, path), path).toBeUndefined();
    }
  });

  it('refuses other methods on the page with 405', async () => {
    const { handler } = dashboard();
    const response = await get(handler, '/jobwire', { method: 'POST' });
    expect(response?.status).toBe(405);
    expect(response?.headers.get('allow')).toBe('GET');
  });

  it('mounts at the root with basePath "/"', async () => {
    const { handler } = dashboard({ basePath: '/' });
    const html = await (await get(handler, '/'))!.text();
    expect(html).toContain('<base href="/">');
    expect((await get(handler, '/api/jobs'))?.status).toBe(200);
    expect((await get(handler, '/assets/app.js'))?.status).toBe(200);
    expect(await get(handler, '/jobs')).toBeUndefined();
  });
});

describe('the API', () => {
  it('lists jobs, plugins and stats below basePath/api', async () => {
    const { tracker, handler } = dashboard({ basePath: '/ops/jobs/' });
    const job = await tracker.submit('send-email', { to: 'a@b.test' });
    await tracker.wait(job.id);
    const list = (await (await get(handler, '/ops/jobs/api/jobs'))!.json()) as { jobs: JobSnapshot[] };
    expect(list.jobs.map((each) => each.id)).toEqual([job.id]);
    const plugins = (await (await get(handler, '/ops/jobs/api/plugins'))!.json()) as { plugins: { name: string }[] };
    expect(plugins.plugins.map((plugin) => plugin.name).sort()).toEqual(['import-csv', 'render', 'send-email']);
    const response = await get(handler, '/ops/jobs/api/stats');
    expect(response?.headers.get('cache-control')).toBe('no-store');
    const stats = (await response!.json()) as JobStats;
    expect(stats).toMatchObject({ completed: 1, total: 1, plugins: { 'send-email': { finished: { completed: 1, failed: 0, cancelled: 0 } } } });
  });

  it('cancels and re-runs, but neither submits nor deletes', async () => {
    const { tracker, gates, handler } = dashboard();
    const job = await tracker.submit('render', {});
    await gates.started(job.id);
    expect((await get(handler, '/jobwire/api/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plugin: 'render', input: {} }) }))?.status).toBe(405);
    expect((await get(handler, `/jobwire/api/jobs/${job.id}`, { method: 'DELETE' }))?.status).toBe(405);
    expect((await get(handler, '/jobwire/api/stats', { method: 'POST' }))?.status).toBe(405);

    const cancelled = await get(handler, `/jobwire/api/jobs/${job.id}/cancel`, { method: 'POST' });
    expect(cancelled?.status).toBe(200);
    expect(((await cancelled!.json()) as JobSnapshot).status).toBe('cancelled');
    const rerun = await get(handler, `/jobwire/api/jobs/${job.id}/retry`, { method: 'POST' });
    expect(rerun?.status).toBe(202);
    const again = (await rerun!.json()) as JobSnapshot;
    expect(again).toMatchObject({ plugin: 'render', retryOf: job.id });
    expect((await tracker.list()).jobs).toHaveLength(2);
  });

  it('asks authorize for every API call, stats included, and never for the page or its assets', async () => {
    const seen: string[] = [];
    const { tracker, gates, handler } = dashboard({
      authorize: ({ action, request }: AuthorizeContext) => {
        seen.push(action);
        return request.headers.get('x-role') === 'ops';
      },
    });
    const job = await tracker.submit('render', {});
    await gates.started(job.id);
    for (const path of ['/jobwire', '/jobwire/assets/app.js', '/jobwire/assets/app.css']) expect((await get(handler, path))?.status).toBe(200);
    expect(seen).toEqual([]);

    for (const path of ['/jobwire/api/jobs', `/jobwire/api/jobs/${job.id}`, '/jobwire/api/plugins', '/jobwire/api/stats']) {
      const refused = await get(handler, path);
      expect(refused?.status, path).toBe(403);
      expect(((await refused!.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN');
    }
    const ops = { headers: { 'x-role': 'ops' } };
    expect((await get(handler, '/jobwire/api/stats', ops))?.status).toBe(200);
    expect((await get(handler, `/jobwire/api/jobs/${job.id}/cancel`, { ...ops, method: 'POST' }))?.status).toBe(200);
    expect(seen).toEqual(['list', 'get', 'plugins', 'stats', 'stats', 'cancel']);
  });

  it('keeps a refused job as unknown as a missing one when authorize says JOB_NOT_FOUND', async () => {
    const { tracker, handler } = dashboard({
      authorize: ({ job }) => {
        if (job && job.tenantId !== 'acme') throw Object.assign(new Error('not yours'), { name: 'JobwireError', code: 'JOB_NOT_FOUND' });
      },
    });
    const other = await tracker.submit('send-email', { to: 'x@y.test' }, { tenantId: 'globex' });
    const response = await get(handler, `/jobwire/api/jobs/${other.id}`);
    expect(response?.status).toBe(404);
  });
});

describe('the API serves only what the page uses', () => {
  /** A dashboard that lets everyone in and records what authorize was asked. */
  async function allowAll() {
    const asked: string[] = [];
    const made = dashboard({
      authorize: ({ action }) => {
        asked.push(action);
        return true;
      },
    });
    const done = await made.tracker.submit('send-email', { to: 'a@b.test' }, { tenantId: 'acme' });
    await made.tracker.wait(done.id);
    const failed = await made.tracker.submit('import-csv', { rows: 3 }, { tenantId: 'acme' });
    await made.tracker.wait(failed.id);
    const running = await made.tracker.submit('render', {}, { tenantId: 'acme' });
    await made.gates.started(running.id);
    asked.length = 0;
    return { ...made, asked, done, failed, running };
  }

  it('answers the page routes: list, get, the three kinds of stream, cancel, retry, plugins, stats', async () => {
    const { handler, done, failed, running, asked } = await allowAll();
    expect((await get(handler, '/jobwire/api/jobs?tenantId=acme'))?.status).toBe(200);
    expect((await get(handler, '/jobwire/api/jobs/'))?.status).toBe(200);
    expect((await get(handler, `/jobwire/api/jobs/${done.id}`))?.status).toBe(200);
    expect((await get(handler, '/jobwire/api/plugins'))?.status).toBe(200);
    expect((await get(handler, '/jobwire/api/stats'))?.status).toBe(200);

    // A job's own stream and a stream of several jobs end after their terminal events.
    const one = await get(handler, `/jobwire/api/jobs/${done.id}/events`);
    expect(one?.status).toBe(200);
    expect(await one!.text()).toContain('event: completed');
    const several = await get(handler, `/jobwire/api/jobs/events?id=${done.id}&id=${failed.id}`);
    expect(several?.status).toBe(200);
    expect(await several!.text()).toContain('event: failed');
    // The tenant-wide stream stays open: let it go.
    const abort = new AbortController();
    const tenantWide = await get(handler, '/jobwire/api/jobs/events?tenantId=acme', { signal: abort.signal });
    expect(tenantWide?.status).toBe(200);
    expect(tenantWide?.headers.get('content-type')).toMatch(/^text\/event-stream/);
    abort.abort();
    await tenantWide!.body?.cancel().catch(() => {});

    expect((await get(handler, `/jobwire/api/jobs/${running.id}/cancel`, { method: 'POST' }))?.status).toBe(200);
    expect((await get(handler, `/jobwire/api/jobs/${failed.id}/retry`, { method: 'POST' }))?.status).toBe(202);
    expect(asked).toEqual(['list', 'list', 'get', 'plugins', 'stats', 'events', 'events', 'events', 'events', 'cancel', 'retry']);
  });

  it('answers 404 for every other path below basePath/api, even when authorize lets everyone in, and never asks authorize', async () => {
    const { handler, tracker, done, asked } = await allowAll();
    expect(await tracker.storage!.get(done.id)).toMatchObject({ jobId: done.id }); // there is a result to read, were the route there
    const paths = [
      '/jobwire/api',
      '/jobwire/api/',
      '/jobwire/api/results',
      '/jobwire/api/results?tenantId=acme',
      '/jobwire/api/schedules',
      `/jobwire/api/jobs/${done.id}/result`,
      `/jobwire/api/jobs/${done.id}/output`,
      `/jobwire/api/jobs/${done.id}/nope`,
      `/jobwire/api/jobs/${done.id}/events/more`,
      '/jobwire/api/jobs/events/',
      '/jobwire/api/jobs//events',
      '/jobwire/api/nope',
      '/jobwire/api/stats/more',
    ];
    for (const path of paths) {
      const response = await get(handler, path);
      expect(response?.status, path).toBe(404);
      expect(await errorCodeOf(response), path).toBe('NOT_FOUND');
    }
    expect(asked).toEqual([]);
  });

  it('answers 405 for a method the page does not use on one of its routes', async () => {
    const { handler, done, running, asked } = await allowAll();
    const cases: [string, string, string][] = [
      ['POST', '/jobwire/api/jobs', 'GET'],
      ['DELETE', `/jobwire/api/jobs/${done.id}`, 'GET'],
      ['PUT', `/jobwire/api/jobs/${done.id}`, 'GET'],
      ['GET', `/jobwire/api/jobs/${running.id}/cancel`, 'POST'],
      ['GET', `/jobwire/api/jobs/${done.id}/retry`, 'POST'],
      ['POST', `/jobwire/api/jobs/${done.id}/events`, 'GET'],
      ['POST', '/jobwire/api/jobs/events', 'GET'],
      ['POST', '/jobwire/api/plugins', 'GET'],
      ['POST', '/jobwire/api/stats', 'GET'],
    ];
    for (const [method, path, allow] of cases) {
      const response = await get(handler, path, { method });
      expect(response?.status, `${method} ${path}`).toBe(405);
      expect(response?.headers.get('allow'), `${method} ${path}`).toBe(allow);
    }
    expect(asked).toEqual([]);
  });
});

describe('cross-site writes', () => {
  async function running() {
    const made = dashboard();
    const job = await made.tracker.submit('render', {}, { tenantId: 'acme' });
    await made.gates.started(job.id);
    const failed = await made.tracker.submit('import-csv', { rows: 3 }, { tenantId: 'acme' });
    await made.tracker.wait(failed.id);
    return { ...made, job, failed };
  }

  it.each<[string, Record<string, string>]>([
    ['Sec-Fetch-Site: cross-site', { 'sec-fetch-site': 'cross-site' }],
    ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'sec-fetch-site': 'same-site' }],
    ['Sec-Fetch-Site: none', { 'sec-fetch-site': 'none' }],
    ['a foreign Origin', { origin: 'https://evil.test' }],
    ['an Origin on another port', { origin: 'http://dash.test:8080' }],
    ['Origin: null (a sandboxed frame)', { origin: 'null' }],
    ['a same-origin Sec-Fetch-Site with a foreign Origin', { 'sec-fetch-site': 'same-origin', origin: 'https://evil.test' }],
  ])('refuses a cancel or a re-run with %s: 403 FORBIDDEN, the job untouched', async (_name, headers) => {
    const { tracker, handler, job, failed } = await running();
    const cancel = await get(handler, `/jobwire/api/jobs/${job.id}/cancel`, { method: 'POST', headers });
    expect(cancel?.status).toBe(403);
    expect(await errorCodeOf(cancel)).toBe('FORBIDDEN');
    const retry = await get(handler, `/jobwire/api/jobs/${failed.id}/retry`, { method: 'POST', headers });
    expect(retry?.status).toBe(403);
    expect((await tracker.get(job.id))?.status).toBe('running');
    expect((await tracker.list()).jobs).toHaveLength(2);
  });

  it.each<[string, Record<string, string>]>([
    ['the headers a browser sends from the page', { 'sec-fetch-site': 'same-origin', origin: ORIGIN }],
    ['neither header (not a browser)', {}],
    ['only its own Origin (a browser without Sec-Fetch-Site)', { origin: ORIGIN }],
    ['an https Origin on its host (TLS ended before the server)', { 'sec-fetch-site': 'same-origin', origin: 'https://dash.test' }],
  ])('takes a cancel and a re-run with %s', async (_name, headers) => {
    const { tracker, handler, job, failed } = await running();
    expect((await get(handler, `/jobwire/api/jobs/${job.id}/cancel`, { method: 'POST', headers }))?.status).toBe(200);
    expect((await get(handler, `/jobwire/api/jobs/${failed.id}/retry`, { method: 'POST', headers }))?.status).toBe(202);
    expect((await tracker.get(job.id))?.status).toBe('cancelled');
  });

  it('leaves reads to authorize: a cross-site GET changes nothing, and without CORS headers its answer stays unreadable to the other site', async () => {
    const { handler, job } = await running();
    const read = await get(handler, `/jobwire/api/jobs/${job.id}`, { headers: { 'sec-fetch-site': 'cross-site', origin: 'https://evil.test' } });
    expect(read?.status).toBe(200);
    expect(read?.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('through toNodeHandler', () => {
  let server: DashboardServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });

  it('answers its own paths and leaves the others to the host (404 here)', async () => {
    server = await startDashboard();
    expect((await fetch(server.url)).status).toBe(200);
    expect((await fetch(`${server.url}/api/stats`)).status).toBe(200);
    const other = await fetch(`${server.origin}/elsewhere`);
    expect(other.status).toBe(404);
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND');
  });
});
