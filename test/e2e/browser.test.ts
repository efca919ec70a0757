import { existsSync, readFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobOutput, JobSnapshot } from '../../src/index.js';
import { startExample, type ExampleProcess } from '../helpers/example-process.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const screenshots = resolve(import.meta.dirname, '../../test-results');

if (!hasChromium) console.warn(`SKIPPED: demo page browser tests — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

/** A console error of the page, with the URL it is about (a failed load names the resource). */
interface ConsoleError {
  text: string;
  url: string;
}

/**
 * Stop an example the hard way, as a crash or a kill during a deploy would: no tracker.close(), so
 * no job gets a last event. tsx runs the example in a child process of its own; that one is killed.
 */
async function crash(example: ExampleProcess): Promise<void> {
  const pid = example.child.pid ?? 0;
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  for (const child of children.length > 0 ? children : [pid]) process.kill(child, 'SIGKILL');
  await example.stop(); // tsx exits with its child; stop() waits for that
}

async function openPage(browser: Browser, url: string, pageErrors: string[], consoleErrors: ConsoleError[] = []): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  page.setDefaultTimeout(5_000); // a missing element fails the test in seconds rather than at its timeout
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push({ text: message.text(), url: message.location().url });
  });
  await page.goto(url);
  await page.getByTestId('start').and(page.locator(':enabled')).waitFor();
  return page;
}

/** Start a `steps` job from the form; resolves with the id the page shows for it. */
async function startSteps(page: Page, steps: number, stepMs: number): Promise<string> {
  const before = await page.getByTestId('job-id').textContent();
  await page.getByTestId('plugin').selectOption('steps');
  await page.getByTestId('field-steps').fill(String(steps));
  await page.getByTestId('field-stepMs').fill(String(stepMs));
  await page.getByTestId('start').click();
  await expect.poll(() => page.getByTestId('job-id').textContent(), { timeout: 5_000 }).not.toBe(before);
  return (await page.getByTestId('job-id').textContent()) ?? '';
}

/**
 * Start a job of `plugin` from the form, with these input fields and submit options (an option not
 * given is left empty); resolves with the id the page shows for it.
 */
async function startJob(page: Page, plugin: string, fields: Record<string, string>, options: { delay?: string; attempts?: string } = {}): Promise<string> {
  const before = await page.getByTestId('job-id').textContent();
  await page.getByTestId('plugin').selectOption(plugin);
  for (const [name, value] of Object.entries(fields)) await page.getByTestId(`field-${name}`).fill(value);
  await page.getByTestId('delay').fill(options.delay ?? '');
  await page.getByTestId('attempts').fill(options.attempts ?? '');
  await page.getByTestId('start').click();
  await expect.poll(() => page.getByTestId('job-id').textContent(), { timeout: 5_000 }).not.toBe(before);
  return (await page.getByTestId('job-id').textContent()) ?? '';
}

describe.skipIf(!hasChromium)('the demo page in headless Chromium', () => {
  let example: ExampleProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  const consoleErrors: ConsoleError[] = [];

  beforeAll(async () => {
    [example, browser] = await Promise.all([startExample('hono/server.ts'), chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })]);
    page = await openPage(browser, example.url, pageErrors, consoleErrors);
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await example?.stop();
  });

  async function getJob(id: string): Promise<{ status: number; job?: JobSnapshot }> {
    const response = await fetch(`${example.url}/jobs/${id}`);
    return response.ok ? { status: response.status, job: (await response.json()) as JobSnapshot } : { status: response.status };
  }

  const text = (testId: string): Promise<string | null> => page.getByTestId(testId).textContent();
  const progressValue = (): Promise<number> => page.getByTestId('progress').evaluate((el) => (el as HTMLProgressElement).value);
  const recentStatus = (id: string): Promise<string | null> => page.locator(`[data-testid="recent"] li[data-job-id="${id}"] .status`).textContent({ timeout: 1_000 }).catch(() => null);

  it('start → live progress → completed → result', async () => {
    await startSteps(page, 6, 250);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('running');
    // The bar moves while the job runs: a value strictly between 0 and 100 is seen.
    await expect.poll(progressValue, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0);
    expect(await progressValue()).toBeLessThan(100);
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('completed');
    expect(await progressValue()).toBe(100);
    expect(JSON.parse((await text('result')) ?? '')).toEqual({ steps: 6, label: 'step' });
    expect(await page.getByTestId('cancel').isDisabled()).toBe(true);
    expect(await page.getByTestId('notice').isHidden()).toBe(true);
  });

  it('start → cancel → cancelled, said once, and both jobs are in the recent list', async () => {
    await startSteps(page, 50, 1_000);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('running');
    await page.getByTestId('cancel').click();
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('cancelled');
    expect(await text('result')).toBe('');
    // The status says "cancelled"; the line beside it gives the reason, not the code CANCELLED again.
    expect(await text('message')).toBe('Cancelled in the demo page');
    expect(await page.getByTestId('error-code').isHidden()).toBe(true);
    await expect.poll(() => page.getByTestId('recent').locator('li .status').allTextContents(), { timeout: 5_000 }).toEqual(['cancelled', 'completed']);
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: resolve(screenshots, 'demo-page.png'), fullPage: true });
    expect(existsSync(resolve(screenshots, 'demo-page.png'))).toBe(true);
  });

  it('the child-process job shows its pid while running', async () => {
    await page.getByTestId('plugin').selectOption('child-process');
    await page.getByTestId('field-seconds').fill('1');
    await page.getByTestId('start').click();
    await expect.poll(() => text('message'), { timeout: 5_000 }).toMatch(/^pid \d+$/);
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('completed');
    expect(JSON.parse((await text('result')) ?? '')).toMatchObject({ exitCode: 0 });
  });

  it('labels fields with the schema titles and shows `backticks` in descriptions as code', async () => {
    await page.getByTestId('plugin').selectOption('steps');
    // The label names the input: found by its title, it is the stepMs field.
    expect(await page.getByLabel('Pause per step (ms)', { exact: true }).getAttribute('name')).toBe('stepMs');
    expect(await page.getByLabel('Steps', { exact: true }).getAttribute('name')).toBe('steps');
    expect(await page.locator('#fields').textContent()).not.toContain('stepMs');

    await page.getByTestId('plugin').selectOption('child-process');
    const description = page.getByTestId('plugin-description');
    expect(await description.textContent()).toBe('Runs sleep in a child process and reports elapsed time; cancel kills the process.');
    expect(await description.locator('code').allTextContents()).toEqual(['sleep']);
    expect(await page.locator('#fields').textContent()).not.toContain('`');
    await page.getByTestId('plugin').selectOption('steps');
  });

  it('a cancel that arrives after the job completed leaves it completed and readable', async () => {
    const id = await startSteps(page, 10, 200);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('running');
    // Hold whatever request the Cancel button sends until the job has completed on the server.
    let held = 0;
    const isCancel = (url: URL): boolean => url.pathname === `/jobs/${id}` || url.pathname === `/jobs/${id}/cancel`;
    await page.route(isCancel, async (route) => {
      if (route.request().method() === 'GET') return route.continue();
      held += 1;
      await (await fetch(`${example.url}/jobs/${id}/events`)).text(); // the stream ends with the job's terminal event
      await route.continue();
    });
    try {
      const answered = page.waitForResponse((response) => isCancel(new URL(response.url())) && response.request().method() !== 'GET');
      await page.getByTestId('cancel').click();
      await answered;
    } finally {
      await page.unroute(isCancel);
    }
    expect(held).toBe(1);

    // The server still has the job, as it ended.
    const { status, job } = await getJob(id);
    expect(status).toBe(200);
    expect(job).toMatchObject({ status: 'completed', progress: 100, result: { steps: 10, label: 'step' } });
    // The page has taken the answer (the button is no longer busy) and shows the same job, with no error.
    await page.locator('[data-testid="cancel"][aria-busy="false"]').waitFor();
    expect(await text('status')).toBe('completed');
    expect(await text('message')).toBe(job?.message ?? '');
    expect(JSON.parse((await text('result')) ?? '')).toEqual({ steps: 10, label: 'step' });
    expect(await page.getByTestId('notice').isHidden()).toBe(true);
    expect(await page.getByTestId('cancel').isDisabled()).toBe(true);
  });

  it('a rejected submit shows its error by the form, in an error colour, and leaves the job shown alone', async () => {
    const shownId = await text('job-id');
    expect(await text('status')).toBe('completed');
    const isSubmit = (url: URL): boolean => url.pathname === '/jobs';

    // INVALID_INPUT, answered by the real server: the form is valid in the browser, the body sent is not.
    await page.route(isSubmit, (route) =>
      route.request().method() === 'POST' ? route.continue({ postData: JSON.stringify({ plugin: 'steps', input: { steps: 1_000 } }) }) : route.continue(),
    );
    try {
      await page.getByTestId('start').click();
      await page.getByTestId('submit-error').waitFor({ state: 'visible', timeout: 5_000 });
    } finally {
      await page.unroute(isSubmit);
    }
    expect(await text('submit-error-code')).toBe('INVALID_INPUT');
    expect(await page.locator('#submit-error-details li').allTextContents()).toEqual(['Steps: Too big: expected number to be <=100']);
    expect(await page.getByTestId('field-steps').getAttribute('aria-invalid')).toBe('true');
    const [red, green] = await page.getByTestId('submit-error').evaluate((el) => getComputedStyle(el).color.match(/\d+/g)!.map(Number));
    expect(red).toBeGreaterThan(green + 64); // a red, not the green of "completed"
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: resolve(screenshots, 'demo-page-rejected.png'), fullPage: true });

    // QUEUE_FULL, as a busy server answers it.
    await page.route(isSubmit, (route) =>
      route.request().method() === 'POST' ? route.fulfill({ status: 429, json: { error: { code: 'QUEUE_FULL', message: 'Queue is full (100 waiting)' } } }) : route.continue(),
    );
    try {
      await page.getByTestId('start').click();
      await expect.poll(() => text('submit-error-code'), { timeout: 5_000 }).toBe('QUEUE_FULL');
    } finally {
      await page.unroute(isSubmit);
    }
    expect(await page.locator('#submit-error-message').textContent()).toBe('Queue is full (100 waiting)');

    // The job shown before is untouched: same id, same status, its result still there.
    expect(await text('job-id')).toBe(shownId);
    expect(await text('status')).toBe('completed');
    expect(await progressValue()).toBe(100);
    expect(JSON.parse((await text('result')) ?? '')).toEqual({ steps: 10, label: 'step' });
  });

  it('the recent list keeps up with jobs the page is not following', async () => {
    const first = await startSteps(page, 4, 250);
    expect(await page.getByTestId('submit-error').isHidden()).toBe(true); // a good submit clears the last error
    const second = await startSteps(page, 50, 1_000); // the page now follows this one, not the first
    await expect.poll(() => recentStatus(second), { timeout: 5_000 }).toBe('running');
    await expect.poll(() => recentStatus(first), { timeout: 10_000 }).toBe('completed');
    expect(await recentStatus(second)).toBe('running');
    await page.getByTestId('cancel').click();
    await expect.poll(() => recentStatus(second), { timeout: 5_000 }).toBe('cancelled');
  });

  it('a retried job counts down to its next try, shows the error of the last one, then completes', async () => {
    const id = await startJob(page, 'flaky', { failures: '1', failPercent: '0', stepMs: '50' });
    // The first try fails; the job waits for the plugin's 3 s backoff, counted down live.
    const countdown = page.getByTestId('countdown');
    await expect.poll(() => countdown.textContent(), { timeout: 10_000, interval: 50 }).toMatch(/^attempt 2 of 3 — retrying in [123] s$/);
    const first = await countdown.textContent();
    expect(await text('status')).toBe('queued');
    expect(await text('last-error')).toBe('Previous try failed: PLUGIN_FAILED: the service did not answer (try 1)');
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: resolve(screenshots, 'demo-page-retrying.png'), fullPage: true });
    expect(existsSync(resolve(screenshots, 'demo-page-retrying.png'))).toBe(true);
    // The count goes down without any event: the page redraws it from runAt.
    await expect.poll(() => countdown.textContent(), { timeout: 5_000, interval: 50 }).not.toBe(first);
    // The second try succeeds: the countdown goes, the try and the last try's error stay.
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('completed');
    expect(await countdown.isHidden()).toBe(true);
    expect(await text('attempt')).toBe('attempt 2 of 3');
    expect(await page.getByTestId('last-error').isVisible()).toBe(true);
    expect(JSON.parse((await text('result')) ?? '')).toEqual({ attempt: 2 });
    expect(await page.getByTestId('rerun').isHidden()).toBe(true); // a completed job is not re-run
    const { job } = await getJob(id);
    expect(job).toMatchObject({ status: 'completed', attempt: 2, maxAttempts: 3, lastError: { code: 'PLUGIN_FAILED' } });
  });

  it('a failed job and a cancelled job have a re-run button that starts them again as new jobs', async () => {
    // One try only (the Tries option): the flaky job fails at once.
    const failed = await startJob(page, 'flaky', { failures: '1', failPercent: '0', stepMs: '20' }, { attempts: '1' });
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('failed');
    expect(await text('error-code')).toBe('PLUGIN_FAILED');
    const rerun = page.getByTestId('rerun');
    await rerun.and(page.locator(':enabled')).waitFor();
    await rerun.click();
    await expect.poll(() => text('job-id'), { timeout: 5_000 }).not.toBe(failed);
    const again = (await text('job-id')) ?? '';
    expect(await text('retry-of')).toBe(`re-run of ${failed.slice(0, 8)}`);
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('failed'); // same input, same outcome
    expect((await getJob(again)).job).toMatchObject({ plugin: 'flaky', retryOf: failed, maxAttempts: 1, input: { failures: 1, failPercent: 0, stepMs: 20 } });
    expect((await getJob(failed)).job?.status).toBe('failed'); // the old job stays as it ended

    const cancelled = await startSteps(page, 3, 2_000);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('running');
    expect(await rerun.isHidden()).toBe(true); // not while it runs
    await page.getByTestId('cancel').click();
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('cancelled');
    await rerun.and(page.locator(':enabled')).waitFor();
    await rerun.click();
    await expect.poll(() => text('job-id'), { timeout: 5_000 }).not.toBe(cancelled);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('running');
    await page.getByTestId('cancel').click(); // no need to wait the 6 s out
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('cancelled');
    await expect.poll(() => recentStatus(cancelled), { timeout: 5_000 }).toBe('cancelled');
  });

  it('a delayed job counts down to its start, then runs; a delayed job can be cancelled while it waits', async () => {
    const id = await startJob(page, 'steps', { steps: '2', stepMs: '50' }, { delay: '3' });
    const countdown = page.getByTestId('countdown');
    await expect.poll(() => countdown.textContent(), { timeout: 5_000, interval: 50 }).toMatch(/^starts in [123] s$/);
    const first = await countdown.textContent();
    expect(await text('status')).toBe('queued');
    expect(await page.getByTestId('cancel').isEnabled()).toBe(true);
    await expect.poll(() => countdown.textContent(), { timeout: 5_000, interval: 50 }).not.toBe(first);
    await expect.poll(() => text('status'), { timeout: 10_000 }).toBe('completed');
    expect(await countdown.isHidden()).toBe(true);
    const { job } = await getJob(id);
    expect(Date.parse(job?.startedAt ?? '') - Date.parse(job?.createdAt ?? '')).toBeGreaterThanOrEqual(2_900);

    const waiting = await startJob(page, 'steps', { steps: '2', stepMs: '50' }, { delay: '60' });
    await expect.poll(() => countdown.textContent(), { timeout: 5_000 }).toMatch(/^starts in (60|59) s$/);
    expect((await getJob(waiting)).job).toMatchObject({ status: 'queued', runAt: expect.any(String) as unknown });
    await page.getByTestId('cancel').click();
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('cancelled');
    expect(await countdown.isHidden()).toBe(true);
    await page.getByTestId('delay').fill('');
  });

  it('a streaming job shows its output live; a reload mid-job shows the text so far, then goes on live', async () => {
    const id = await startJob(page, 'transcribe', { segments: '24', segmentMs: '300' });
    const segments = page.getByTestId('segment');
    await expect.poll(() => segments.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    expect(await text('status')).toBe('running');
    expect(new URL(page.url()).hash).toBe(`#job=${id}`); // what a reload opens again

    await page.reload();
    // The page opens the job in its address once its plugins are read: wait for it to show.
    await expect.poll(() => text('job-id'), { timeout: 10_000 }).toBe(id);
    // The text so far comes back at once (replayed from the job's first event) while the job still runs…
    await expect.poll(() => segments.count(), { timeout: 5_000 }).toBeGreaterThanOrEqual(3);
    const replayed = await segments.count();
    expect((await getJob(id)).job?.status).toBe('running');
    // …then goes on live.
    await expect.poll(() => segments.count(), { timeout: 10_000 }).toBeGreaterThan(replayed);
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: resolve(screenshots, 'demo-page-output.png'), fullPage: true });
    await expect.poll(() => text('status'), { timeout: 20_000 }).toBe('completed');
    // Every segment once, in order, as the server kept them.
    const { chunks } = (await (await fetch(`${example.url}/jobs/${id}/output`)).json()) as JobOutput;
    const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
    expect(await segments.allTextContents()).toEqual((chunks as { start: number; text: string }[]).map((chunk) => `${clock(chunk.start)}${chunk.text}`));
    expect(chunks).toHaveLength(24);
  });

  it('a token stream grows as one text; a finished job opened again shows its whole output', async () => {
    const id = await startJob(page, 'tokens', { tokens: '200', tokenMs: '10' });
    const output = page.getByTestId('output');
    await expect.poll(async () => (await output.textContent())?.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(20);
    await expect.poll(() => text('status'), { timeout: 20_000 }).toBe('completed');
    const { chunks } = (await (await fetch(`${example.url}/jobs/${id}/output`)).json()) as JobOutput;
    const whole = chunks.join('');
    expect(whole.startsWith('Live output lets a job show its work as it goes.')).toBe(true);
    expect(await output.textContent()).toBe(whole);
    // Opened from the recent list after it finished: the output is read once, whole.
    await startSteps(page, 1, 10);
    await expect.poll(() => text('status'), { timeout: 5_000 }).toBe('completed');
    expect(await output.textContent()).toBe('');
    await page.locator(`[data-testid="recent"] li[data-job-id="${id}"]`).click();
    await expect.poll(() => output.textContent(), { timeout: 5_000 }).toBe(whole);
  });

  it('the htmx page appends each segment as a fragment the server rendered; a reload replays the text so far, then goes on live', async () => {
    const errors: string[] = [];
    const htmx = await browser.newPage({ viewport: { width: 900, height: 900 } });
    htmx.setDefaultTimeout(5_000);
    htmx.on('pageerror', (error) => errors.push(error.message));
    try {
      await htmx.goto(`${example.url}/htmx`);
      await htmx.getByTestId('segments').fill('16');
      await htmx.getByTestId('segment-ms').fill('300');
      const before = new Set(await htmx.getByTestId('job').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-job-id'))));
      await htmx.getByTestId('start').click();
      await expect.poll(async () => (await htmx.getByTestId('job').evaluateAll((cards) => cards.map((card) => card.getAttribute('data-job-id')))).filter((id) => !before.has(id)), { timeout: 5_000 }).toHaveLength(1);
      const id = (await htmx.getByTestId('job').first().getAttribute('data-job-id'))!; // a new card goes first
      expect(before.has(id)).toBe(false);
      const card = htmx.locator(`[data-job-id="${id}"]`);
      const segments = card.locator('.transcript p.segment');
      await expect.poll(() => segments.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      expect(await card.locator('.status').textContent()).toBe('running');

      // The page lists recent transcriptions, so a reload brings the card back; its stream replays from the start.
      await htmx.reload();
      await expect.poll(() => segments.count(), { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
      const replayed = await segments.count();
      expect((await getJob(id)).job?.status).toBe('running');
      await expect.poll(() => segments.count(), { timeout: 10_000 }).toBeGreaterThan(replayed);
      await mkdir(screenshots, { recursive: true });
      await htmx.screenshot({ path: resolve(screenshots, 'htmx-page-output.png'), fullPage: true });
      await expect.poll(() => card.locator('.status').textContent(), { timeout: 20_000 }).toBe('completed');
      expect(await card.locator('progress').getAttribute('value')).toBe('100');
      const { chunks } = (await (await fetch(`${example.url}/jobs/${id}/output`)).json()) as JobOutput;
      const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
      expect(await segments.allTextContents()).toEqual((chunks as { start: number; text: string }[]).map((chunk) => `${clock(chunk.start)} ${chunk.text}`));
      expect(chunks).toHaveLength(16);
      expect(errors).toEqual([]);
    } finally {
      await htmx.close();
    }
  }, 60_000);

  it('a stream cut short mid-job: the page says it is reconnecting, resumes after the last event it had, and shows every segment once', async () => {
    // The job's first stream is its first frames up to the third segment, then half a frame, then the end.
    const isJobEvents = (url: URL): boolean => /^\/jobs\/[^/]+\/events$/.test(url.pathname);
    let requests = 0;
    let cutAfterSeq = 0;
    let resumedFrom: string | undefined;
    let lostSeen!: () => void;
    const lost = new Promise<void>((resolve) => (lostSeen = resolve));
    await page.route(isJobEvents, async (route) => {
      requests += 1;
      if (requests === 1) {
        const upstream = new AbortController();
        const response = await fetch(route.request().url(), { headers: { accept: 'text/event-stream' }, signal: upstream.signal });
        const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader();
        let text = '';
        while ((text.match(/\nevent: output\n/g) ?? []).length < 3) {
          const { done, value } = await reader.read();
          if (done) throw new Error(`the job's stream ended before its third segment:\n${text}`);
          text += value;
        }
        upstream.abort();
        const frames = text.split('\n\n');
        const upTo = frames.findIndex((_, index) => (frames.slice(0, index + 1).join('\n\n').match(/\nevent: output\n/g) ?? []).length === 3);
        const kept = frames.slice(0, upTo + 1);
        cutAfterSeq = Number(/(?:^|\n)id: (\d+)/.exec(kept.at(-1)!)![1]);
        await route.fulfill({ status: 200, contentType: 'text/event-stream', body: `${kept.join('\n\n')}\n\nid: ${cutAfterSeq + 1}\nevent: output\ndata: {"seq":` });
      } else {
        if (requests === 2) {
          resumedFrom = route.request().headers()['last-event-id'];
          await lost; // held until the page has said so
        }
        await route.continue();
      }
    });
    try {
      const id = await startJob(page, 'transcribe', { segments: '12', segmentMs: '200' });
      await expect.poll(() => text('notice'), { timeout: 10_000 }).toMatch(/connection to the server lost/i);
      expect(await page.getByTestId('cancel').isDisabled()).toBe(true);
      expect(await page.getByTestId('segment').count()).toBe(3);
      lostSeen();
      await page.getByTestId('notice').waitFor({ state: 'hidden', timeout: 10_000 });
      await expect.poll(() => text('status'), { timeout: 20_000 }).toBe('completed');
      expect(resumedFrom).toBe(String(cutAfterSeq));
      const { chunks } = (await (await fetch(`${example.url}/jobs/${id}/output`)).json()) as JobOutput;
      const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;
      expect(await page.getByTestId('segment').allTextContents()).toEqual((chunks as { start: number; text: string }[]).map((chunk) => `${clock(chunk.start)}${chunk.text}`));
      expect(chunks).toHaveLength(12);
    } finally {
      lostSeen();
      await page.unroute(isJobEvents);
    }
  });

  it('asks for no /favicon.ico and throws no error', async () => {
    expect(consoleErrors.filter((error) => error.url.endsWith('/favicon.ico'))).toEqual([]);
    expect(await page.locator('link[rel="icon"]').getAttribute('href', { timeout: 1_000 })).toMatch(/^data:/);
    expect(pageErrors).toEqual([]);
  });

  it('after a server restart: says the connection was lost, then that the server no longer knows the job', async () => {
    const first = await startExample('hono/server.ts');
    let second: ExampleProcess | undefined;
    const errors: string[] = [];
    const own = await openPage(browser, first.url, errors);
    try {
      await startSteps(own, 50, 1_000);
      await expect.poll(() => own.getByTestId('status').textContent(), { timeout: 5_000 }).toBe('running');
      expect(await own.getByTestId('cancel').isEnabled()).toBe(true);

      await crash(first);
      await expect.poll(() => own.getByTestId('notice').textContent(), { timeout: 10_000 }).toMatch(/connection to the server lost/i);
      expect(await own.getByTestId('cancel').isDisabled()).toBe(true);

      second = await startExample('hono/server.ts', { PORT: new URL(first.url).port });
      expect(second.url).toBe(first.url);
      await expect.poll(() => own.getByTestId('notice').textContent(), { timeout: 20_000 }).toMatch(/the server no longer knows this job/i);
      expect(await own.getByTestId('status').textContent()).toBe('unknown');
      expect(await own.getByTestId('cancel').isDisabled()).toBe(true);
      // The list is the new server's too: it has no jobs.
      await expect.poll(() => own.getByTestId('recent-note').textContent(), { timeout: 10_000 }).toBe('No jobs yet.');
      expect(await own.getByTestId('recent').locator('li').count()).toBe(0);
      await mkdir(screenshots, { recursive: true });
      await own.screenshot({ path: resolve(screenshots, 'demo-page-restart.png'), fullPage: true });
      expect(errors).toEqual([]);
    } finally {
      await own.close();
      await second?.stop();
      await first.stop();
    }
  }, 60_000);
});
