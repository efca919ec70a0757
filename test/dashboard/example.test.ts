import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobStats } from 'jobwire';
import { startExample, type ExampleProcess } from '../helpers/example-process.js';

/** Starting an example server under tsx, on a loaded machine. */
const START_MS = 90_000;

describe('npm start (the Hono example) mounts the dashboard', () => {
  let example: ExampleProcess;
  beforeAll(async () => {
    example = await startExample('hono/server.ts');
  }, START_MS);
  afterAll(async () => {
    expect(await example?.stop()).toBe(0);
  });

  it('prints the dashboard address beside the demo page', async () => {
    await expect.poll(() => example.output(), { timeout: 10_000 }).toContain(`dashboard: ${example.url}/jobwire`);
  });

  it('serves the page, its script and its API at /jobwire', async () => {
    const page = await fetch(`${example.url}/jobwire`);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<title>jobwire demo</title>');
    const script = /src="(assets\/app\.js\?v=[\w-]+)"/.exec(html)?.[1];
    expect((await fetch(`${example.url}/jobwire/${script}`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    const stats = (await (await fetch(`${example.url}/jobwire/api/stats`)).json()) as JobStats;
    expect(stats).toMatchObject({ windowMs: expect.any(Number), plugins: expect.any(Object) });
    const plugins = (await (await fetch(`${example.url}/jobwire/api/plugins`)).json()) as { plugins: { name: string }[] };
    expect(plugins.plugins.map((plugin) => plugin.name)).toContain('transcribe');
  });

  it("serves no more API than the page uses, and refuses another site's writes", async () => {
    for (const path of ['/jobwire/api/schedules', '/jobwire/api/results']) expect((await fetch(`${example.url}${path}`)).status, path).toBe(404);
    const { jobs } = (await (await fetch(`${example.url}/jobwire/api/jobs`)).json()) as { jobs: { id: string }[] };
    const target = `${example.url}/jobwire/api/jobs/${jobs[0]?.id ?? 'AAAAAAAAAAAAAAAAAAAAAA'}/cancel`;
    const crossSite = await fetch(target, { method: 'POST', headers: { 'sec-fetch-site': 'cross-site', origin: 'https://elsewhere.test' } });
    expect(crossSite.status).toBe(403);
  });

  it('serves jobwire/client/browser at /vendor/jobwire-client.js, for the demo page', async () => {
    const response = await fetch(`${example.url}/vendor/jobwire-client.js`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(await response.text()).toMatch(/export\s*\{[^}]*createJobClient/);
  });
});
