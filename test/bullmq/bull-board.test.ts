import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import { resolve } from 'node:path';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { until } from '../helpers/deferred.js';
import { bullmqDatabases } from '../helpers/bullmq-databases.js';
import { uniquePrefix } from '../helpers/redis.js';
import { createViewPlugins } from './fixtures/view-plugins.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const screenshots = resolve(import.meta.dirname, '../../test-results');
/** How long a state may take to show on a loaded machine before the test fails. */
const SHOWS_MS = 15_000;

const prefix = uniquePrefix();
// Bull Board reads BullMQ through its Redis client (server info, workers): Redis only.
const [redis] = await bullmqDatabases(prefix, 'Bull Board on jobwire jobs');
if (!hasChromium) console.warn(`SKIPPED: Bull Board browser test — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!hasChromium || !redis?.up)('Bull Board shows jobwire jobs as BullMQ jobs (headless Chromium)', () => {
  const database = redis!;
  const queueName = `${prefix}-board`;
  const fx = createViewPlugins();
  let browser: Browser;
  let tracker: JobTracker;
  let server: Server;
  let origin: string;
  const queue = database.queue(queueName);

  beforeAll(async () => {
    const backend = new BullMQBackend({ connection: database.url, queueName, prefix, role: 'both' });
    tracker = new JobTracker({ plugins: fx.plugins, backend });
    const board = new ExpressAdapter();
    board.setBasePath('/ui');
    createBullBoard({ queues: [new BullMQAdapter(queue)], serverAdapter: board });
    const app = express();
    app.use('/ui', board.getRouter());
    server = createServer(app);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    [browser] = await Promise.all([chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true }), backend.ready(), mkdir(screenshots, { recursive: true })]);
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await tracker?.close({ timeoutMs: 0 });
    await queue.close();
    await new Promise((done) => server?.close(done));
    await database.cleanup();
  });

  /** Bull Board's page of one job. */
  async function jobPage(id: string, status: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(SHOWS_MS);
    await page.goto(`${origin}/ui/queue/${encodeURIComponent(queueName)}/${id}?status=${status}`);
    return page;
  }

  /** Click the job's tab named `name` and return its text. */
  async function tab(page: Page, name: string): Promise<string> {
    await page.getByRole('button', { name, exact: true }).or(page.getByRole('tab', { name, exact: true })).first().click();
    return page.locator('main').innerText();
  }

  it("shows a running job's input, jobwire fields and progress, a completed job's return value, and a failed job's reason", async () => {
    const running = await tracker.submit('paint', { key: 'board' }, { tenantId: 'acme' });
    await until(async () => (await queue.getJob(running.id))?.progress === 43.75, SHOWS_MS, 'the progress to reach BullMQ');
    const page = await jobPage(running.id, 'active');
    await expect.poll(() => page.locator('main').innerText(), { timeout: SHOWS_MS }).toContain(running.id);
    // Bull Board shows data as JSON with its keys unquoted.
    const data = await tab(page, 'Data');
    expect(data).toMatch(/input:\s*\{\s*key:\s*"board"\s*\}/);
    expect(data).toMatch(/tenantId:\s*"acme"/);
    expect(data).toContain(`id:"${running.id}"`);
    expect(await page.locator('main').innerText()).toContain('44%'); // Bull Board rounds the progress it shows
    await page.screenshot({ path: resolve(screenshots, 'bull-board-running.png'), fullPage: true });

    fx.open('board');
    await tracker.wait(running.id, { timeoutMs: SHOWS_MS });
    await until(async () => (await queue.getJobState(running.id)) === 'completed', SHOWS_MS, 'BullMQ to say completed');
    await page.goto(`${origin}/ui/queue/${encodeURIComponent(queueName)}/${running.id}?status=completed`);
    await expect.poll(() => tab(page, 'Data'), { timeout: SHOWS_MS }).toMatch(/returnValue:\s*\{\s*painted:\s*"board"\s*\}/);
    expect(await page.locator('main').innerText()).toContain('100%');
    await page.screenshot({ path: resolve(screenshots, 'bull-board-completed.png'), fullPage: true });

    const failed = await tracker.submit('crash', { message: 'the brush snapped' });
    await tracker.wait(failed.id, { timeoutMs: SHOWS_MS });
    await until(async () => (await queue.getJobState(failed.id)) === 'failed', SHOWS_MS, 'BullMQ to say failed');
    await page.goto(`${origin}/ui/queue/${encodeURIComponent(queueName)}/${failed.id}?status=failed`);
    await expect.poll(() => page.locator('main').innerText(), { timeout: SHOWS_MS }).toContain('the brush snapped');
    await page.screenshot({ path: resolve(screenshots, 'bull-board-failed.png'), fullPage: true });
    expect(existsSync(resolve(screenshots, 'bull-board-failed.png'))).toBe(true);
    await page.close();
  }, 90_000);
});
