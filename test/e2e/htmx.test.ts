import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getRequestListener } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, isStatusEvent, JobTracker, LocalPluginManager, type JobEvent, type JobSnapshot } from '../../src/index.js';
import { createJobRoutes, type JobRoutesHandler } from '../../src/http/index.js';
import { sleep, until } from '../helpers/deferred.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { start as startHonoExample } from '../../examples/hono/server.js';
import { createDemoTracker } from '../../examples/shared/demo.js';
import type { RunningExample } from '../../examples/shared/serve.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const root = resolve(import.meta.dirname, '../..');
const fixtures = resolve(root, 'test/fixtures/htmx');

/**
 * The `retry:` the streams send. A page that loops asks for the events URL again about every
 * RETRY_MS + 500 ms: EventSource reconnects RETRY_MS after the stream ends, gets the 204, and the
 * htmx 2 extension then makes a new EventSource (no Last-Event-ID, so a whole replay) after its
 * first back-off of 500 ms, which every successful open resets. (htmx 4 backs off from 500 ms too.)
 */
const RETRY_MS = 100;
/**
 * How long a page that stopped must stay silent: 10 s, about sixteen loop periods, so even timers
 * running many times late under load would show more requests. The control test below shows the
 * loop this window is meant to catch.
 */
const WINDOW_MS = 10_000;

const VENDOR: Record<string, string> = {
  '/vendor/htmx2/htmx.min.js': 'node_modules/htmx.org/dist/htmx.min.js',
  '/vendor/htmx2/sse.js': 'node_modules/htmx-ext-sse/dist/sse.js',
  '/vendor/htmx4/htmx.js': 'node_modules/htmx.org-4/dist/htmx.js',
  '/vendor/htmx4/hx-sse.js': 'node_modules/htmx.org-4/dist/ext/hx-sse.js',
};

const scripted = definePlugin({
  name: 'scripted',
  input: z.object({ outcome: z.enum(['complete', 'fail', 'hang']), steps: z.number().int().min(0).max(10).default(2) }),
  async run(input, ctx) {
    for (let step = 1; step <= input.steps; step++) ctx.progress((step / input.steps) * 90, `step ${step}`);
    if (input.outcome === 'fail') throw new Error('scripted failure');
    if (input.outcome === 'hang') await new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason as Error), { once: true }));
    return { steps: input.steps };
  },
});

/** Fails its first try, then completes: one `retrying` event between two tries. */
const retried = definePlugin({
  name: 'retried',
  input: z.object({}),
  retry: { attempts: 2, backoff: { type: 'fixed', delayMs: 300 } },
  async run(_input, ctx) {
    ctx.progress(50, `try ${ctx.attempt}`);
    if (ctx.attempt === 1) throw new Error('first try fails');
    return { attempt: ctx.attempt };
  },
});

const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
/** As in docs/sse.md. */
const serialize = (event: JobEvent): string =>
  isStatusEvent(event) ? `<progress max="100" value="${event.job.progress}"></progress> <span class="status">${escape(event.job.status)}</span> ${escape(event.job.message ?? '')}` : '';

/** One request to an events URL, as the server saw it. */
interface EventsRequest {
  path: string;
  lastEventId: string | undefined;
  status?: number;
}

interface Harness {
  tracker: JobTracker;
  server: TestServer;
  eventsRequests: EventsRequest[];
}

/** The routes twice on one tracker: at /jobs for htmx 2 (named events), at /h4/jobs for htmx 4 (unnamed). */
async function startHarness(): Promise<Harness> {
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(scripted).register(retried) });
  const htmx2 = createJobRoutes(tracker, { sse: { serialize, endEvent: 'end', retryMs: RETRY_MS } });
  const htmx4 = createJobRoutes(tracker, {
    basePath: '/h4/jobs',
    pluginsPath: '/h4/plugins',
    resultsPath: '/h4/results',
    sse: { serialize, endEvent: 'end', eventName: () => undefined, retryMs: RETRY_MS },
  });
  const eventsRequests: EventsRequest[] = [];
  const app = new Hono();
  app.use('*', async (c, next) => {
    if (!c.req.path.endsWith('/events')) return next();
    const seen: EventsRequest = { path: c.req.path, lastEventId: c.req.header('last-event-id') };
    eventsRequests.push(seen);
    await next();
    seen.status = c.res.status;
  });
  app.get('/vendor/*', async (c) => {
    const file = VENDOR[c.req.path];
    return file ? c.body(await readFile(resolve(root, file), 'utf8'), 200, { 'Content-Type': 'text/javascript; charset=utf-8' }) : c.notFound();
  });
  app.get('/:page{[\\w-]+\\.html}', async (c) => c.html(await readFile(resolve(fixtures, c.req.param('page')), 'utf8')));
  /** As in docs/sse.md: an htmx submit gets the fragment that follows the new job; anything else the routes' answer. */
  const submit = (routes: JobRoutesHandler, fragment: (job: JobSnapshot) => string) => async (c: Context) => {
    const response = await routes(c.req.raw);
    if (response?.status !== 202 || c.req.header('hx-request') !== 'true') return response ?? c.notFound();
    return c.html(fragment((await response.json()) as JobSnapshot));
  };
  app.post(
    '/jobs',
    submit(
      htmx2,
      (job) => `<div class="job" data-job-id="${job.id}">
  <div hx-ext="sse" sse-connect="/jobs/${job.id}/events" sse-close="end">
    <div sse-swap="queued,started,progress,retrying,completed,failed,cancelled"><span class="status">queued</span></div>
  </div>
  <button hx-post="/jobs/${job.id}/cancel" hx-swap="none">Cancel</button>
</div>`,
    ),
  );
  app.post(
    '/h4/jobs',
    submit(
      htmx4,
      (job) => `<div class="job" data-job-id="${job.id}">
  <div hx-sse:connect="/h4/jobs/${job.id}/events" hx-sse:close="end"><span class="status">queued</span></div>
  <button hx-post="/h4/jobs/${job.id}/cancel" hx-swap="none">Cancel</button>
</div>`,
    ),
  );
  app.all('*', async (c, next) => (await htmx2(c.req.raw)) ?? (await htmx4(c.req.raw)) ?? next());
  const server = await startServer(getRequestListener(app.fetch));
  return { tracker, server, eventsRequests };
}

if (!hasChromium) console.warn(`SKIPPED: htmx browser tests — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

/** Browser tests on a loaded machine: each waits for states with generous timeouts, so give it room. */
const E2E_TIMEOUT = 90_000;

describe.skipIf(!hasChromium)('htmx pages following jobs in headless Chromium', () => {
  let harness: Harness;
  let browser: Browser;

  beforeAll(async () => {
    [harness, browser] = await Promise.all([startHarness(), chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await harness?.tracker.close({ timeoutMs: 0 });
    await harness?.server.close();
  });

  const requestsFor = (id: string): EventsRequest[] => harness.eventsRequests.filter((request) => request.path.endsWith(`/${id}/events`));

  async function newPage(): Promise<{ page: Page; errors: string[] }> {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    return { page, errors };
  }

  /** Start a job from the page's form; its id once the fragment is in the page. */
  async function start(page: Page, outcome: 'complete' | 'fail' | 'hang'): Promise<string> {
    const before = await page.locator('.job').count();
    await page.getByTestId('outcome').selectOption(outcome);
    await page.getByTestId('start').click();
    await page.locator('.job').nth(before).waitFor();
    return (await page.locator('.job').nth(before).getAttribute('data-job-id'))!;
  }

  const statusOf = (page: Page, id: string) => page.locator(`.job[data-job-id="${id}"] .status`).textContent();

  /** A completed, a failed and a cancelled job, each followed to its end by the page. */
  async function followThreeEndings(page: Page): Promise<string[]> {
    const completed = await start(page, 'complete');
    const failed = await start(page, 'fail');
    const cancelled = await start(page, 'hang');
    await expect.poll(() => statusOf(page, completed), { timeout: 30_000 }).toBe('completed');
    await expect.poll(() => statusOf(page, failed), { timeout: 30_000 }).toBe('failed');
    await expect.poll(() => statusOf(page, cancelled), { timeout: 30_000 }).toBe('running');
    await page.locator(`.job[data-job-id="${cancelled}"] button`).click();
    await expect.poll(() => statusOf(page, cancelled), { timeout: 30_000 }).toBe('cancelled');
    return [completed, failed, cancelled];
  }

  /**
   * Open `file`, end three jobs there (completed, failed, cancelled) and check the page closed each
   * stream on its `end` event and asked for nothing in the window after: each job's stream was
   * requested once. Returns the three job ids.
   */
  async function stopsAfterEveryEnding(file: string): Promise<string[]> {
    const { page, errors } = await newPage();
    try {
      await page.goto(`${harness.server.url}/${file}`);
      const ids = await followThreeEndings(page);
      // The page closed each EventSource on the `end` event: a state, not a duration.
      await expect.poll(() => page.evaluate(() => (window as unknown as { sseCloses: string[] }).sseCloses), { timeout: 30_000 }).toEqual(['message', 'message', 'message']);
      const count = harness.eventsRequests.length;
      await sleep(WINDOW_MS);
      expect(harness.eventsRequests.length).toBe(count);
      for (const id of ids) expect(requestsFor(id).map((r) => r.status)).toEqual([200]);
      expect(errors).toEqual([]);
      return ids;
    } finally {
      await page.close();
    }
  }

  it('htmx 2 with the documented pattern (endEvent "end", sse-close="end") stops after completed, failed and cancelled', async () => {
    await stopsAfterEveryEnding('htmx2.html');
  }, E2E_TIMEOUT);

  it('control: the old pattern (sse-close="completed") loops after a failed job, each time with a whole replay', async () => {
    const job = await harness.tracker.submit('scripted', { outcome: 'fail', steps: 0 }); // events: 1 queued, 2 started, 3 failed
    expect((await harness.tracker.wait(job.id)).status).toBe('failed');
    const { page } = await newPage();
    try {
      await page.goto(`${harness.server.url}/htmx2-close-on-completed.html?job=${job.id}`);
      await until(() => requestsFor(job.id).length >= 4, 30_000, 'the old pattern to loop');
    } finally {
      await page.close();
    }
    const seen = requestsFor(job.id).slice(0, 4);
    // A replay (no Last-Event-ID), EventSource's own reconnect told to stop (204), then the extension starts over.
    expect(seen.map((r) => [r.lastEventId, r.status])).toEqual([
      [undefined, 200],
      ['3', 204],
      [undefined, 200],
      ['3', 204],
    ]);
  }, E2E_TIMEOUT);

  it('htmx 4 (hx-sse:connect, unnamed events, hx-sse:close="end") swaps each event and stops after every ending', async () => {
    const ids = await stopsAfterEveryEnding('htmx4.html');
    // The form was sent as multipart/form-data (hx-encoding) and its fields coerced by the input schema.
    expect((await harness.tracker.get(ids[0]!))?.input).toEqual({ outcome: 'complete', steps: 2 });
  }, E2E_TIMEOUT);

  it('control: htmx 4 without hx-sse:close keeps asking after the stream ended (each time a 204)', async () => {
    const job = await harness.tracker.submit('scripted', { outcome: 'fail', steps: 0 });
    expect((await harness.tracker.wait(job.id)).status).toBe('failed');
    const { page } = await newPage();
    try {
      await page.goto(`${harness.server.url}/htmx4.html`);
      await page.evaluate((id) => {
        const element = document.createElement('div');
        element.setAttribute('hx-sse:connect', `/h4/jobs/${id}/events`);
        document.body.append(element);
        (window as unknown as { htmx: { process(element: Element): void } }).htmx.process(element);
      }, job.id);
      await until(() => requestsFor(job.id).length >= 3, 30_000, 'htmx 4 to reconnect');
    } finally {
      await page.close();
    }
    expect(requestsFor(job.id).slice(0, 3).map((r) => [r.lastEventId, r.status])).toEqual([
      [undefined, 200],
      ['3', 204],
      ['3', 204],
    ]);
  }, E2E_TIMEOUT);

  it.each([
    ['htmx 2', 'htmx2.html', (id: string) => `<div hx-ext="sse" sse-connect="/jobs/${id}/events" sse-close="end"><div sse-swap="queued,started,progress,retrying,completed,failed,cancelled"><span class="status">queued</span></div></div>`],
    ['htmx 4', 'htmx4.html', (id: string) => `<div hx-sse:connect="/h4/jobs/${id}/events" hx-sse:close="end"><span class="status">queued</span></div>`],
  ])('%s: a retried job swaps its retrying event, keeps one stream open through the backoff, and stops after the ending', async (_name, file, fragment) => {
    const { page, errors } = await newPage();
    try {
      await page.goto(`${harness.server.url}/${file}`);
      // Every status the page shows, in order, as the swaps happen.
      await page.evaluate(() => {
        const seen: string[] = [];
        (window as unknown as { seen: string[] }).seen = seen;
        new MutationObserver(() => {
          const status = document.querySelector('#retried .status')?.textContent ?? '';
          if (status !== seen.at(-1)) seen.push(status);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
      const job = await harness.tracker.submit('retried', {});
      await page.evaluate((html) => {
        const holder = document.createElement('div');
        holder.id = 'retried';
        holder.innerHTML = html;
        document.body.append(holder);
        (window as unknown as { htmx: { process(element: Element): void } }).htmx.process(holder);
      }, fragment(job.id));
      await expect.poll(() => page.locator('#retried .status').textContent(), { timeout: 30_000 }).toBe('completed');
      await expect.poll(() => page.evaluate(() => (window as unknown as { sseCloses?: string[] }).sseCloses?.length ?? 0), { timeout: 30_000 }).toBe(1);
      // running (try 1) → queued (retrying) → running (try 2) → completed; a page that opened late may miss the first states.
      const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
      expect(seen.slice(seen.indexOf('running'))).toEqual(['running', 'queued', 'running', 'completed']);
      const log = await harness.tracker.events(job.id)[Symbol.asyncIterator]();
      const types: string[] = [];
      for (let next = await log.next(); !next.done; next = await log.next()) types.push(next.value.type);
      expect(types).toEqual(['queued', 'started', 'progress', 'retrying', 'started', 'progress', 'completed']);
      expect(requestsFor(job.id).map((r) => r.status)).toEqual([200]); // the one stream lasted through the wait
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, E2E_TIMEOUT);

  it('a plain <form>, urlencoded or multipart, submits a job and the browser shows the 202 snapshot', async () => {
    const { page } = await newPage();
    try {
      for (const [form, expected] of [
        ['urlencoded', { input: { outcome: 'complete', steps: 3 }, priority: 0, metadata: { from: 'plain form' } }],
        ['multipart', { input: { outcome: 'complete', steps: 4 }, priority: 2, metadata: {} }],
      ] as const) {
        await page.goto(`${harness.server.url}/plain-form.html`);
        const [response] = await Promise.all([page.waitForNavigation(), page.getByTestId(form).getByRole('button').click()]);
        expect(response?.status()).toBe(202);
        const job = JSON.parse((await page.locator('body').innerText()).trim()) as JobSnapshot;
        expect(job).toMatchObject({ plugin: 'scripted', status: 'queued', ...expected });
        expect((await harness.tracker.wait(job.id)).result).toEqual({ steps: expected.input.steps });
      }
    } finally {
      await page.close();
    }
  }, E2E_TIMEOUT);
});

describe.skipIf(!hasChromium)('the htmx demo page (examples/hono, /htmx) in headless Chromium', () => {
  /** How long a state may take to show on a loaded machine before the test fails. */
  const SHOWS_MS = 15_000;
  let browser: Browser;
  let tracker: ReturnType<typeof createDemoTracker>;
  let example: RunningExample;

  beforeAll(async () => {
    tracker = createDemoTracker();
    [example, browser] = await Promise.all([startHonoExample({ port: 0, host: '127.0.0.1', tracker }), chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })]);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await example?.close();
  });

  it('offers Cancel only while a job may still change: not on a finished card, and it goes when a job ends live', async () => {
    // Before the page opens: a completed and a cancelled transcription, and one that runs until cancelled.
    const completed = await tracker.submit('transcribe', { segments: 1, segmentMs: 10 });
    await tracker.wait(completed.id);
    const cancelled = await tracker.submit('transcribe', { segments: 500, segmentMs: 10_000 });
    await tracker.cancel(cancelled.id);
    const running = await tracker.submit('transcribe', { segments: 500, segmentMs: 10_000 });
    await until(async () => (await tracker.get(running.id))?.status === 'running', SHOWS_MS, 'the long transcription to start');

    const page = await browser.newPage();
    page.setDefaultTimeout(SHOWS_MS);
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') errors.push(message.text()); // htmx logs an out-of-band swap that finds no target
    });
    try {
      await page.goto(`${example.url}/htmx`);
      const card = (id: string) => page.locator(`[data-testid="job"][data-job-id="${id}"]`);
      const cancelOf = (id: string) => card(id).locator('button', { hasText: 'Cancel' });
      const statusShows = (id: string, status: string) => card(id).locator(`.state .status[data-status="${status}"]`).waitFor();

      // Finished when the page was made: no Cancel, before and after the replay of their events.
      for (const [id, status] of [[completed.id, 'completed'], [cancelled.id, 'cancelled']] as const) {
        expect(await cancelOf(id).isHidden(), `${status} card, as served`).toBe(true);
        await statusShows(id, status);
        expect(await cancelOf(id).isHidden(), `${status} card, replayed`).toBe(true);
      }

      // Running: Cancel is there and works; once the job has ended, it is gone.
      await cancelOf(running.id).waitFor({ state: 'visible' });
      expect(await cancelOf(running.id).isEnabled()).toBe(true);
      await cancelOf(running.id).click();
      await statusShows(running.id, 'cancelled');
      await cancelOf(running.id).waitFor({ state: 'hidden' });
      expect((await tracker.get(running.id))?.status).toBe('cancelled');

      // A job started from the form: its card comes with Cancel, which goes when the job completes.
      await page.getByTestId('segments').fill('2');
      await page.getByTestId('segment-ms').fill('300');
      await page.getByTestId('start').click();
      const fresh = page.getByTestId('job').first();
      await expect.poll(() => fresh.getAttribute('data-job-id'), { timeout: SHOWS_MS }).not.toBe(running.id);
      const id = (await fresh.getAttribute('data-job-id'))!;
      expect((await tracker.get(id))?.plugin).toBe('transcribe');
      await statusShows(id, 'completed');
      await cancelOf(id).waitFor({ state: 'hidden' });

      // Served again: no finished card offers Cancel.
      await page.reload();
      await page.getByTestId('job').nth(3).waitFor();
      expect(await page.locator('[data-testid="job"] button', { hasText: 'Cancel' }).filter({ visible: true }).count()).toBe(0);
      await mkdir(resolve(root, 'test-results'), { recursive: true });
      await page.screenshot({ path: resolve(root, 'test-results/htmx-finished-jobs.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  }, E2E_TIMEOUT);
});
