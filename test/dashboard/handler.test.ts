import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager, type JobSnapshot, type JobStats } from 'jobwire';
import { createDashboard, type DashboardOptions } from 'jobwire/dashboard';
import type { AuthorizeContext } from 'jobwire/http';
import { dashboardPlugins, Gates, startDashboard, type DashboardServer } from './fixture.js';

const ORIGIN = 'http://dash.test';
const builtScript = readFileSync(resolve(import.meta.dirname, '../../dist/dashboard/app.js'), 'utf8');

function trackerWithPlugins(): { tracker: JobTracker; gates: Gates } {
  const gates = new Gates();
  const { render, email, importer } = dashboardPlugins(gates);
  return { tracker: new JobTracker({ plugins: new LocalPluginManager().register(render).register(email).register(importer) }), gates };
}

const trackers: JobTracker[] = [];
afterEach(async () => {
  await Promise.all(trackers.splice(0).map((tracker) => tracker.close({ timeoutMs: 0 })));
});

function dashboard(options: DashboardOptions = {}) {
  const { tracker, gates } = trackerWithPlugins();
  trackers.push(tracker);
  return { tracker, gates, handler: createDashboard(tracker, options) };
}

const get = (handler: (request: Request) => Promise<Response | undefined>, path: string, init: RequestInit = {}) => handler(new Request(`${ORIGIN}${path}`, init));

describe('createDashboard options', () => {
  it.each<[string, DashboardOptions]>([
    ['a basePath without a leading slash', { basePath: 'jobwire' }],
    ['a basePath with a dot segment', { basePath: '/ops/../jobwire' }],
    ['a basePath with a quote', { basePath: '/job"wire' }],
    ['a basePath with a space', { basePath: '/job wire' }],
    ['an empty title', { title: '  ' }],
    ['a title over 100 characters', { title: 'x'.repeat(101) }],
    ['an authorize that is not a function', { authorize: 'yes' as unknown as DashboardOptions['authorize'] }],
  ])('refuses %s with INVALID_CONFIG', (_name, options) => {
    const { tracker } = trackerWithPlugins();
    trackers.push(tracker);
    expect(() => createDashboard(tracker, options)).toThrow(expect.objectContaining({ name: 'JobwireError', code: 'INVALID_CONFIG' }));
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
    for (const path of ['/', '/jobs', '/jobwire-x', '/jobwire/other', '/jobwire/assets/other.js', '/jobwire/api', '/jobwire/api/nope']) {
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
