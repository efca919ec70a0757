import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chromium, type Browser, type Locator, type Page, type Request as BrowserRequest } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { JobwireError, type JobSnapshot } from 'jobwire';
import type { DashboardOptions } from 'jobwire/dashboard';
import { startDashboard, type DashboardServer } from './fixture.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const screenshots = resolve(import.meta.dirname, '../../test-results');
/** How long a state may take to show on a loaded machine before the test fails. */
const SHOWS_MS = 10_000;

if (!hasChromium) console.warn(`SKIPPED: dashboard browser tests — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the dashboard in headless Chromium', () => {
  let browser: Browser;
  let dash: DashboardServer | undefined;
  let pageErrors: string[] = [];

  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true });
    await mkdir(screenshots, { recursive: true });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });
  afterEach(async () => {
    await dash?.close();
    dash = undefined;
    expect(pageErrors).toEqual([]);
    pageErrors = [];
  });

  async function serve(options: Partial<DashboardOptions> = {}, guard?: (request: Request) => Response | undefined): Promise<DashboardServer> {
    dash = await startDashboard(options, guard);
    return dash;
  }

  /** An operator's session, as a host's login would set it: a cookie, which the page's calls carry. */
  const SESSION = 's-ops-1';
  const bySession: DashboardOptions['authorize'] = ({ request }) => /(?:^|;\s*)session=([^;]*)/.exec(request.headers.get('cookie') ?? '')?.[1] === SESSION;

  /** Open the dashboard (at `search`, e.g. `?status=failed`) and wait until its stream is live; `session` logs the browser in first. */
  async function open(search = '', viewport = { width: 1280, height: 900 }, colorScheme: 'light' | 'dark' = 'light', session?: string): Promise<Page> {
    const page = await browser.newPage({ viewport, colorScheme });
    page.setDefaultTimeout(SHOWS_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    if (session !== undefined) await page.context().addCookies([{ name: 'session', value: session, url: dash!.origin, httpOnly: true, sameSite: 'Lax' }]);
    await page.goto(`${dash!.url}/${search}`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    return page;
  }

  const row = (page: Page, id: string): Locator => page.locator(`[data-testid="job-row"][data-job-id="${id}"]`);
  /** Wait until the row of `id` shows `status`. */
  const rowShows = (page: Page, id: string, status: string): Promise<void> => page.locator(`[data-testid="job-row"][data-job-id="${id}"][data-status="${status}"]`).waitFor();
  const shownIds = (page: Page): Promise<string[]> => page.getByTestId('job-row').evaluateAll((rows) => rows.map((each) => each.getAttribute('data-job-id') ?? ''));
  const detailStatus = (page: Page): Promise<string | null> => page.getByTestId('detail-status').getAttribute('data-status');

  /** Jobs of every status, in two tenants: what the filters are tried on. */
  async function seed(server: DashboardServer): Promise<Record<'emailAcme' | 'emailGlobex' | 'importAcme' | 'renderGlobex', JobSnapshot>> {
    const { tracker, gates } = server;
    const emailAcme = await tracker.submit('send-email', { to: 'ops@acme.test' }, { tenantId: 'acme' });
    const emailGlobex = await tracker.submit('send-email', { to: 'ops@globex.test' }, { tenantId: 'globex' });
    const importAcme = await tracker.submit('import-csv', { rows: 1_200 }, { tenantId: 'acme' });
    const renderGlobex = await tracker.submit('render', { file: 'teaser.mp4' }, { tenantId: 'globex' });
    await Promise.all([tracker.wait(emailAcme.id), tracker.wait(emailGlobex.id), tracker.wait(importAcme.id), gates.started(renderGlobex.id)]);
    return { emailAcme, emailGlobex, importAcme, renderGlobex };
  }

  it('shows a running job live: its progress and message move, then it completes', async () => {
    const { tracker, gates } = await serve();
    const page = await open();
    expect(await page.getByTestId('empty').textContent()).toBe('No jobs yet. Jobs appear here as they are submitted.');

    const job = await tracker.submit('render', { file: 'keynote.mp4' }, { tenantId: 'acme' });
    const gate = await gates.started(job.id);
    await rowShows(page, job.id, 'running');
    gate.ctx.progress(40, 'encoding 1080p');
    await expect.poll(() => row(page, job.id).getByTestId('progress-value').textContent(), { timeout: SHOWS_MS }).toBe('40%');
    expect(await row(page, job.id).locator('.job-line').textContent()).toBe('encoding 1080p');
    gate.ctx.progress(75, 'muxing');
    await expect.poll(() => row(page, job.id).getByTestId('progress-value').textContent(), { timeout: SHOWS_MS }).toBe('75%');
    expect(await row(page, job.id).locator('[role="progressbar"]').getAttribute('aria-valuenow')).toBe('75');

    gate.finish({ frames: 240 });
    await rowShows(page, job.id, 'completed');
    expect(await row(page, job.id).getByTestId('progress-value').textContent()).toBe('100%');
    // The tiles and the plugin's card follow the stats.
    await expect.poll(() => page.getByTestId('kpi-completed').locator('.kpi-value').textContent(), { timeout: SHOWS_MS }).toBe('1');
    await expect.poll(() => page.locator('[data-testid="plugin-card"][data-plugin="render"] [data-testid="ended-completed"]').textContent(), { timeout: SHOWS_MS }).toBe('1');
    await page.close();
  });

  it('filters by status, plugin and tenant, keeps the filters in the address, and a reload keeps them', async () => {
    const server = await serve();
    const jobs = await seed(server);
    const page = await open();
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([jobs.renderGlobex.id, jobs.importAcme.id, jobs.emailGlobex.id, jobs.emailAcme.id]);

    await page.getByTestId('filter-status-failed').click();
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([jobs.importAcme.id]);
    expect(new URL(page.url()).searchParams.get('status')).toBe('failed');
    expect(await row(page, jobs.importAcme.id).locator('.job-line').textContent()).toBe('row 42: missing column "email"');

    await page.getByTestId('filter-status-all').click();
    await page.getByTestId('filter-plugin').selectOption('send-email');
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([jobs.emailGlobex.id, jobs.emailAcme.id]);
    await page.getByTestId('filter-tenant').fill('acme');
    await page.getByTestId('filter-tenant').press('Enter');
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([jobs.emailAcme.id]);
    expect(Object.fromEntries(new URL(page.url()).searchParams)).toEqual({ plugin: 'send-email', tenant: 'acme' });

    // A new job of the filtered plugin and tenant arrives live, at the top; others stay out.
    const later = await server.tracker.submit('send-email', { to: 'second@acme.test' }, { tenantId: 'acme' });
    await server.tracker.submit('send-email', { to: 'x@globex.test' }, { tenantId: 'globex' });
    await rowShows(page, later.id, 'completed');
    expect(await shownIds(page)).toEqual([later.id, jobs.emailAcme.id]);

    await page.reload();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([later.id, jobs.emailAcme.id]);
    expect(await page.getByTestId('filter-plugin').inputValue()).toBe('send-email');
    expect(await page.getByTestId('filter-tenant').inputValue()).toBe('acme');

    await page.getByTestId('filter-clear').click();
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toHaveLength(6);
    // A status tile filters too.
    await page.getByTestId('kpi-running').click();
    await expect.poll(() => shownIds(page), { timeout: SHOWS_MS }).toEqual([jobs.renderGlobex.id]);
    expect(await page.getByTestId('filter-status-running').getAttribute('aria-pressed')).toBe('true');
    await page.close();
  });

  it('drops a job from a status filter as soon as it leaves that status', async () => {
    const { tracker, gates } = await serve();
    const page = await open('?status=running');
    const job = await tracker.submit('render', {});
    const gate = await gates.started(job.id);
    await rowShows(page, job.id, 'running');
    gate.finish();
    await row(page, job.id).waitFor({ state: 'detached' });
    expect(await page.getByTestId('empty').textContent()).toBe('No jobs match these filters.');
    await page.close();
  });

  it('cancels a running job from its detail panel, as a same-origin write with the session cookie', async () => {
    const { tracker, gates, origin } = await serve({ authorize: bySession });
    const job = await tracker.submit('render', { file: 'long.mp4' }, { tenantId: 'acme' });
    const gate = await gates.started(job.id);
    gate.ctx.progress(30, 'encoding');
    const page = await open('', undefined, undefined, SESSION);
    const writes: BrowserRequest[] = [];
    page.on('request', (request) => {
      if (request.method() !== 'GET') writes.push(request);
    });
    await row(page, job.id).click();
    await page.getByTestId('detail').waitFor();
    expect(new URL(page.url()).searchParams.get('job')).toBe(job.id);
    expect(await page.getByTestId('detail-id').textContent()).toBe(job.id);
    expect(await page.getByTestId('detail-title').textContent()).toBe('Render video');
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('running');
    await expect.poll(() => page.getByTestId('detail-progress').textContent(), { timeout: SHOWS_MS }).toBe('30%');
    expect(await page.getByTestId('detail-rerun').isHidden()).toBe(true);

    await page.getByTestId('detail-cancel').click();
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('cancelled');
    await rowShows(page, job.id, 'cancelled');
    expect(gate.ctx.signal.aborted).toBe(true);
    expect((await tracker.get(job.id))?.status).toBe('cancelled');
    expect(await page.getByTestId('detail-cancel').isHidden()).toBe(true);
    expect(await page.getByTestId('detail-rerun').isVisible()).toBe(true);
    expect(await page.getByTestId('detail-error').textContent()).toContain('Cancelled from the dashboard');
    await page.getByTestId('toasts').getByText('Job cancelled').waitFor();
    // What the server's cross-site check saw: the browser's own word that the write came from the page.
    expect(writes.map((request) => `${request.method()} ${new URL(request.url()).pathname}`)).toEqual([`POST /jobwire/api/jobs/${job.id}/cancel`]);
    const sent = await writes[0]!.allHeaders();
    expect({ site: sent['sec-fetch-site'], origin: sent.origin, cookie: sent.cookie }).toEqual({ site: 'same-origin', origin, cookie: `session=${SESSION}` });

    await page.keyboard.press('Escape');
    await page.getByTestId('detail').waitFor({ state: 'hidden' });
    expect(new URL(page.url()).searchParams.has('job')).toBe(false);
    await page.close();
  });

  it('re-runs a failed job: the new job opens, linked to the one it re-runs', async () => {
    const { tracker } = await serve({ authorize: bySession });
    const failed = await tracker.submit('import-csv', { rows: 7 }, { tenantId: 'acme' });
    await tracker.wait(failed.id);
    const page = await open(`?job=${failed.id}`, undefined, undefined, SESSION); // a shared link opens the job
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('failed');
    expect(await page.getByTestId('detail-error').textContent()).toBe('PLUGIN_FAILEDrow 7: missing column "email"');
    expect(await page.getByTestId('detail-cancel').isHidden()).toBe(true);

    await page.getByTestId('detail-rerun').click();
    await expect.poll(() => page.getByTestId('detail-id').textContent(), { timeout: SHOWS_MS }).not.toBe(failed.id);
    const rerunId = (await page.getByTestId('detail-id').textContent())!;
    expect(new URL(page.url()).searchParams.get('job')).toBe(rerunId);
    expect(await page.getByTestId('retry-of').getAttribute('title')).toBe(failed.id);
    await rowShows(page, rerunId, 'failed'); // the same input fails again
    expect(await row(page, rerunId).locator('.job-badge').isVisible()).toBe(true);
    expect(await shownIds(page)).toEqual([rerunId, failed.id]);
    expect((await tracker.get(rerunId))?.retryOf).toBe(failed.id);

    // The link goes back to the job it re-ran.
    await page.getByTestId('retry-of').click();
    await expect.poll(() => page.getByTestId('detail-id').textContent(), { timeout: SHOWS_MS }).toBe(failed.id);
    await page.close();
  });

  it('shows a job in detail: live output, timeline, input and result', async () => {
    const { tracker, gates } = await serve();
    const job = await tracker.submit('render', { file: 'interview.wav' }, { tenantId: 'acme', metadata: { requestedBy: 'dana' } });
    const gate = await gates.started(job.id);
    const page = await open(`?job=${job.id}`);
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('running');

    gate.ctx.write('[00:00] Hello and welcome.\n');
    // A job that writes output: its output tab comes forward by itself.
    await expect.poll(() => page.getByTestId('output').textContent(), { timeout: SHOWS_MS }).toBe('[00:00] Hello and welcome.\n');
    expect(await page.getByTestId('tab-output').getAttribute('aria-selected')).toBe('true');
    gate.ctx.write('[00:04] Today we talk about queues.\n');
    await expect.poll(() => page.getByTestId('output').textContent(), { timeout: SHOWS_MS }).toBe('[00:00] Hello and welcome.\n[00:04] Today we talk about queues.\n');
    gate.ctx.progress(50, 'half way');
    gate.finish({ words: 9 });
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('completed');

    await page.getByTestId('tab-timeline').click();
    expect(await page.getByTestId('timeline').locator('.tl-type').allTextContents()).toEqual(['queued', 'started', 'progress', 'completed']);
    await page.getByTestId('tab-input').click();
    expect(JSON.parse((await page.getByTestId('detail-input').textContent())!)).toEqual({ file: 'interview.wav' });
    await page.getByTestId('tab-result').click();
    expect(JSON.parse((await page.getByTestId('detail-result').textContent())!)).toEqual({ words: 9 });
    await page.getByTestId('tab-metadata').click();
    expect(JSON.parse((await page.getByTestId('detail-metadata').textContent())!)).toEqual({ requestedBy: 'dana' });
    await page.close();
  });

  it('writes every value from the server as text, never as markup', async () => {
    const { tracker, gates } = await serve();
    const hostile = '<img src=x onerror="window.__owned=1">';
    const job = await tracker.submit('render', { file: hostile }, { tenantId: '<b>tenant</b>', metadata: { note: hostile } });
    const gate = await gates.started(job.id);
    gate.ctx.progress(10, hostile);
    gate.ctx.write(`${hostile}\n`);
    const page = await open(`?job=${job.id}`);
    await expect.poll(() => row(page, job.id).locator('.job-line').textContent(), { timeout: SHOWS_MS }).toBe(hostile);
    expect(await row(page, job.id).locator('.job-tenant').textContent()).toBe('<b>tenant</b>');
    await expect.poll(() => page.getByTestId('output').textContent(), { timeout: SHOWS_MS }).toBe(`${hostile}\n`);
    expect(await page.getByTestId('detail-message').textContent()).toBe(hostile);
    expect(await page.locator('img, b').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __owned?: number }).__owned)).toBeUndefined();
    await page.close();
  });

  it('says when the stream is lost, and catches up with what changed meanwhile once it is back', async () => {
    const server = await serve({ sse: { retryMs: 250 } }); // the client's first wait before it reconnects
    const job = await server.tracker.submit('render', {}, { tenantId: 'acme' });
    const gate = await server.gates.started(job.id);
    const page = await open();
    await rowShows(page, job.id, 'running');

    server.refuseStreams(true);
    server.dropConnections();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    gate.ctx.progress(80, 'nearly there');
    gate.finish();
    await server.tracker.wait(job.id); // ended while the page was not listening
    server.refuseStreams(false);

    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await rowShows(page, job.id, 'completed'); // the list was read again when the stream came back
    await page.close();
  });

  it('refuses a cancel and a re-run that another site sends, even to a dashboard that lets everyone in', async () => {
    const { tracker, gates, origin } = await serve({ authorize: () => true });
    const job = await tracker.submit('render', {}, { tenantId: 'acme' });
    await gates.started(job.id);
    const failed = await tracker.submit('import-csv', { rows: 7 }, { tenantId: 'acme' });
    await tracker.wait(failed.id);
    // Another site: localhost is not 127.0.0.1's site. Its page (here the server's 404, which has no CSP) posts to the dashboard.
    const page = await browser.newPage();
    page.on('pageerror', (error) => pageErrors.push(error.message));
    const elsewhere = origin.replace('127.0.0.1', 'localhost');
    await page.goto(`${elsewhere}/another-site`);
    const statuses: number[] = [];
    page.on('response', (response) => {
      if (response.request().method() === 'POST') statuses.push(response.status());
    });
    // `no-cors`: the form-like request any page may send; its answer is opaque to the page, but it has arrived.
    await page.evaluate(
      async (urls) => {
        for (const url of urls) await fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include' });
      },
      [`${origin}/jobwire/api/jobs/${job.id}/cancel`, `${origin}/jobwire/api/jobs/${failed.id}/retry`],
    );
    await expect.poll(() => statuses, { timeout: SHOWS_MS }).toEqual([403, 403]);
    expect((await tracker.get(job.id))?.status).toBe('running');
    expect((await tracker.list()).jobs).toHaveLength(2);
    await page.close();
  });

  /**
   * Open the dashboard with a fake clock (time runs as usual until the test moves it), counting the
   * page's calls of its API; resolves once the four first calls (list, stream, stats, plugins) are answered.
   */
  async function openRefused(): Promise<{ page: Page; calls: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(SHOWS_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.clock.install();
    const calls: string[] = [];
    const answered: string[] = [];
    const apiPath = (url: string): string | undefined => /\/api\/.*$/.exec(new URL(url).pathname)?.[0];
    page.on('request', (request) => {
      const path = apiPath(request.url());
      if (path !== undefined) calls.push(path);
    });
    page.on('response', (response) => {
      const path = apiPath(response.url());
      if (path !== undefined) answered.push(`${path} ${response.status()}`);
    });
    await page.goto(`${dash!.url}/`);
    await expect.poll(() => answered.length, { timeout: SHOWS_MS }).toBe(4);
    return { page, calls };
  }

  /** What a refused page shows: "No access" on top, one message in the jobs area, no tiles, nothing loading; and it asks no more. */
  async function expectRefused(page: Page, calls: string[], says: RegExp): Promise<void> {
    const badge = page.locator('[data-testid="connection"][data-state="refused"]');
    await badge.waitFor();
    expect(await badge.textContent()).toBe('No access');
    expect(await badge.getAttribute('title')).toMatch(says);
    const refused = page.getByTestId('list-refused');
    await refused.waitFor();
    expect(await refused.innerText()).toMatch(says);
    expect(await refused.innerText()).toMatch(/ask .* for access.*sign in/i);
    await page.getByTestId('overview').waitFor({ state: 'hidden' }); // the stats were refused too
    expect(await page.getByTestId('plugin-cards').isHidden()).toBe(true);
    expect(await page.getByTestId('list-error').isHidden()).toBe(true);
    expect(await page.getByTestId('empty').isHidden()).toBe(true);
    expect(await page.getByTestId('job-row').count()).toBe(0);
    const shown = await page.locator('main').innerText();
    expect(shown).not.toMatch(/Loading|Offline|Reconnecting|–/);
    expect(await page.getByRole('alert').filter({ visible: true }).count()).toBe(1);
    // Asked once each, and never again: neither the stream nor the stats retry a refusal.
    expect([...calls].sort()).toEqual(['/api/jobs', '/api/jobs/events', '/api/plugins', '/api/stats']);
    await page.clock.runFor(120_000);
    expect(await badge.textContent()).toBe('No access');
    expect([...calls].sort()).toEqual(['/api/jobs', '/api/jobs/events', '/api/plugins', '/api/stats']);
  }

  it('says No access when authorize refuses: one message that says what to do, no tiles, and no retries; Try again after signing in', async () => {
    const { tracker } = await serve({ authorize: bySession }); // and the browser has no session
    const job = await tracker.submit('send-email', { to: 'a@b.test' });
    await tracker.wait(job.id);
    const { page, calls } = await openRefused();
    await expectRefused(page, calls, /FORBIDDEN/);
    expect(await page.getByTestId('list-refused').innerText()).toContain('The server refused to show these jobs (FORBIDDEN).');
    await page.screenshot({ path: resolve(screenshots, 'dashboard-refused.png'), animations: 'disabled' });

    // Signed in meanwhile (another tab): Try again reads everything again.
    await page.context().addCookies([{ name: 'session', value: SESSION, url: dash!.origin, httpOnly: true, sameSite: 'Lax' }]);
    await page.getByTestId('refused-retry').click();
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await rowShows(page, job.id, 'completed');
    await page.getByTestId('list-refused').waitFor({ state: 'hidden' });
    await page.getByTestId('kpi-completed').locator('.kpi-value').filter({ hasText: '1' }).waitFor();
    await page.close();
  });

  it.each([
    [
      "authorize's own FORBIDDEN message",
      { authorize: () => Promise.reject(new JobwireError('FORBIDDEN', 'Sign in with your staff account')) },
      undefined,
      /Sign in with your staff account.*\(FORBIDDEN\)/,
    ],
    [
      "a 401 from the host's sign-in check in front of the dashboard",
      {},
      (request: Request) => (new URL(request.url).pathname.includes('/api/') ? Response.json({ error: { code: 'UNAUTHORIZED', message: 'Your session has expired' } }, { status: 401 }) : undefined),
      /Your session has expired.*\(HTTP 401\)/,
    ],
  ] as const)('says No access for %s too, and asks no more', async (_name, options, guard, says) => {
    await serve(options, guard);
    const { page, calls } = await openRefused();
    await expectRefused(page, calls, says);
    await page.close();
  });

  it("shows one tenant's operator their jobs without the stats they may not see, and says No access outside their tenant", async () => {
    // The policy of docs/dashboard.md's tenant operators, for acme: the list and stream only on acme, no stats.
    const { tracker } = await serve({
      authorize: ({ action, job, query }) => (job ? job.tenantId === 'acme' : action === 'plugins' || ((action === 'list' || action === 'events') && query?.tenantId === 'acme')),
    });
    const mine = await tracker.submit('send-email', { to: 'ops@acme.test' }, { tenantId: 'acme' });
    await tracker.submit('send-email', { to: 'ops@globex.test' }, { tenantId: 'globex' });
    await tracker.wait(mine.id);
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(SHOWS_MS);
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.clock.install();
    const statsCalls: string[] = [];
    page.on('request', (request) => {
      if (new URL(request.url()).pathname.endsWith('/api/stats')) statsCalls.push(request.url());
    });
    const statsAnswered = page.waitForResponse((response) => new URL(response.url()).pathname.endsWith('/api/stats'));
    await page.goto(`${dash!.url}/?tenant=acme`);
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await rowShows(page, mine.id, 'completed');
    expect(await shownIds(page)).toEqual([mine.id]);
    await statsAnswered;
    const note = page.getByTestId('stats-refused');
    await note.waitFor();
    expect(await note.textContent()).toBe('The counts and plugin charts are not shown: the server refused the stats (FORBIDDEN).');
    expect(await page.getByTestId('overview').isHidden()).toBe(true);
    expect(await page.getByTestId('plugin-cards').isHidden()).toBe(true);
    await page.screenshot({ path: resolve(screenshots, 'dashboard-stats-refused.png'), animations: 'disabled' });
    await page.clock.runFor(60_000);
    expect(statsCalls).toHaveLength(1); // a refusal is not polled again

    // Outside their tenant: no access to the list or its stream, said once; back on it, live again.
    await page.getByTestId('filter-clear').click();
    await page.locator('[data-testid="connection"][data-state="refused"]').waitFor();
    await page.getByTestId('list-refused').waitFor();
    expect(await page.getByTestId('job-row').count()).toBe(0);
    expect(await note.isHidden()).toBe(true); // the jobs area says it for both
    await page.getByTestId('filter-tenant').fill('acme');
    await page.getByTestId('filter-tenant').press('Enter');
    await page.locator('[data-testid="connection"][data-state="live"]').waitFor();
    await rowShows(page, mine.id, 'completed');
    expect(await page.getByTestId('list-refused').isHidden()).toBe(true);
    expect(await note.isVisible()).toBe(true);
    await page.close();
  });

  it('keeps each status pill whole inside its border at every width from 390 to 1600 px, the detail panel open', async () => {
    const { tracker, gates } = await serve();
    const completed = await tracker.submit('send-email', { to: 'a@b.test' }, { tenantId: 'acme' });
    await tracker.wait(completed.id);
    const failed = await tracker.submit('import-csv', { rows: 3 }, { tenantId: 'acme' });
    await tracker.wait(failed.id);
    const cancelled = await tracker.submit('render', {}, { tenantId: 'acme' });
    await gates.started(cancelled.id);
    await tracker.cancel(cancelled.id);
    const running = await tracker.submit('render', {}, { tenantId: 'globex' });
    await gates.started(running.id);
    await tracker.submit('render', {}, { tenantId: 'globex', delayMs: 3_600_000 });
    const page = await open(`?job=${completed.id}`, { width: 1300, height: 900 });
    await expect.poll(() => page.getByTestId('job-row').count(), { timeout: SHOWS_MS }).toBe(5);
    await expect.poll(() => detailStatus(page), { timeout: SHOWS_MS }).toBe('completed');

    /** Each pill whose text does not fit inside its border, or that does not fit its cell, at this width. */
    const spills = (): Promise<string[]> =>
      page.locator('.pill').evaluateAll((pills) =>
        pills.flatMap((pill) => {
          if (pill.getClientRects().length === 0) return []; // not shown (the panel's, once it is closed)
          const label = pill.querySelector('.pill-label') as HTMLElement;
          const box = pill.getBoundingClientRect();
          const text = label.getBoundingClientRect();
          const cell = pill.parentElement!.getBoundingClientRect();
          const style = getComputedStyle(pill);
          const inner = { left: box.left + parseFloat(style.borderLeftWidth), right: box.right - parseFloat(style.borderRightWidth) };
          const whole = label.scrollWidth <= label.clientWidth; // no text cut off (nor an ellipsis)
          const inside = text.left >= inner.left - 0.5 && text.right <= inner.right + 0.5 && pill.scrollWidth <= pill.clientWidth;
          const fits = pill.closest('td') === null || box.right <= cell.right + 0.5;
          return whole && inside && fits ? [] : [`${label.textContent} (${whole ? '' : 'cut '}${inside ? '' : 'spills '}${fits ? '' : 'leaves its cell'}) ${Math.round(box.width)}px in ${Math.round(cell.width)}px`];
        }),
      );
    expect(await spills()).toEqual([]); // 1300 px, the panel open: where it was seen
    await page.screenshot({ path: resolve(screenshots, 'dashboard-1300-detail.png'), animations: 'disabled' });
    for (const width of [390, 480, 600, 760, 761, 820, 960, 1024, 1100, 1200, 1280, 1366, 1440, 1600]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await spills(), `${width} px, panel open`).toEqual([]);
    }
    await page.keyboard.press('Escape');
    await page.getByTestId('detail').waitFor({ state: 'hidden' });
    for (const width of [390, 760, 1024, 1300, 1600]) {
      await page.setViewportSize({ width, height: 900 });
      expect(await spills(), `${width} px, panel closed`).toEqual([]);
    }
    await page.close();
  });

  it('looks right at 1280 px and 390 px, light and dark (screenshots in test-results/)', async () => {
    const { tracker, gates } = await serve({ title: 'Acme operations' });
    for (const [index, tenantId] of ['acme', 'globex', 'acme', 'initech', 'globex', 'acme'].entries()) {
      await tracker.wait((await tracker.submit('send-email', { to: `user${index}@${tenantId}.test` }, { tenantId })).id);
    }
    await tracker.wait((await tracker.submit('import-csv', { rows: 1_200 }, { tenantId: 'initech' })).id);
    const cancelled = await tracker.submit('render', { file: 'draft.mp4' }, { tenantId: 'globex' });
    await gates.started(cancelled.id);
    await tracker.cancel(cancelled.id, 'Superseded by a newer upload');
    const teaser = await tracker.submit('render', { file: 'teaser.mp4' }, { tenantId: 'globex', workspaceId: 'brand' });
    (await gates.started(teaser.id)).ctx.progress(18, 'probing streams');
    const keynote = await tracker.submit('render', { file: 'keynote.mp4' }, { tenantId: 'acme', workspaceId: 'marketing', metadata: { requestedBy: 'dana' } });
    const gate = await gates.started(keynote.id);
    gate.ctx.progress(64, 'encoding 1080p — pass 2 of 3');
    for (let second = 0; second < 9; second++) gate.ctx.write(`[00:${String(second * 7).padStart(2, '0')}.000] segment ${second + 1} encoded (${(2.1 + second * 0.13).toFixed(2)} MB)\n`);
    await tracker.submit('render', { file: 'tomorrow.mp4' }, { tenantId: 'acme', delayMs: 3_600_000 });

    const shoot = async (name: string, search: string, viewport: { width: number; height: number }, scheme: 'light' | 'dark', ready: (page: Page) => Promise<unknown>): Promise<void> => {
      const page = await open(search, viewport, scheme);
      await expect.poll(() => page.getByTestId('job-row').count(), { timeout: SHOWS_MS }).toBe(11);
      await page.getByTestId('kpi-completed').locator('.kpi-value').filter({ hasText: '6' }).waitFor();
      await ready(page);
      const file = resolve(screenshots, name);
      await page.screenshot({ path: file, fullPage: viewport.width < 500 && !search.includes('job='), animations: 'disabled' });
      expect(existsSync(file)).toBe(true);
      await page.close();
    };
    const withOutput = (page: Page) => page.getByTestId('output').filter({ hasText: 'segment 9 encoded' }).waitFor();
    await shoot('dashboard-1280.png', `?job=${keynote.id}`, { width: 1280, height: 900 }, 'light', withOutput);
    await shoot('dashboard-1280-dark.png', '', { width: 1280, height: 900 }, 'dark', () => Promise.resolve());
    await shoot('dashboard-390.png', '', { width: 390, height: 844 }, 'light', () => Promise.resolve());
    await shoot('dashboard-390-detail.png', `?job=${keynote.id}`, { width: 390, height: 844 }, 'dark', withOutput);
  });
});
