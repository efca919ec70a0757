import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startExample, type ExampleProcess } from '../helpers/example-process.js';

const CHROMIUM = '/usr/bin/chromium';
const FLAGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const hasChromium = existsSync(CHROMIUM);
const screenshots = resolve(import.meta.dirname, '../../test-results');

if (!hasChromium) console.warn(`SKIPPED: demo page browser tests — no Chromium at ${CHROMIUM} (apt-get install -y chromium)`);

describe.skipIf(!hasChromium)('the demo page in headless Chromium', () => {
  let example: ExampleProcess;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    [example, browser] = await Promise.all([startExample('hono/server.ts'), chromium.launch({ executablePath: CHROMIUM, args: FLAGS, headless: true })]);
    page = await browser.newPage({ viewport: { width: 900, height: 900 } });
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(example.url);
    await page.getByTestId('start').and(page.locator(':enabled')).waitFor();
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await example?.stop();
  });

  async function startSteps(steps: number, stepMs: number): Promise<void> {
    await page.getByTestId('plugin').selectOption('steps');
    await page.getByTestId('field-steps').fill(String(steps));
    await page.getByTestId('field-stepMs').fill(String(stepMs));
    await page.getByTestId('start').click();
  }

  const progressValue = (): Promise<number> => page.getByTestId('progress').evaluate((el) => (el as HTMLProgressElement).value);

  it('start → live progress → completed → result', async () => {
    await startSteps(6, 250);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 5_000 }).toBe('running');
    // The bar moves while the job runs: a value strictly between 0 and 100 is seen.
    await expect.poll(progressValue, { timeout: 5_000, interval: 20 }).toBeGreaterThan(0);
    expect(await progressValue()).toBeLessThan(100);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('completed');
    expect(await progressValue()).toBe(100);
    expect(JSON.parse((await page.getByTestId('result').textContent()) ?? '')).toEqual({ steps: 6, label: 'step' });
    expect(await page.getByTestId('cancel').isDisabled()).toBe(true);
  });

  it('start → cancel → cancelled, and both jobs are in the recent list', async () => {
    await startSteps(50, 1_000);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 5_000 }).toBe('running');
    await page.getByTestId('cancel').click();
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 5_000 }).toBe('cancelled');
    expect(await page.getByTestId('result').textContent()).toBe('');
    await expect.poll(() => page.getByTestId('recent').locator('li').count(), { timeout: 5_000 }).toBe(2);
    const recent = await page.getByTestId('recent').locator('li .status').allTextContents();
    expect(recent).toEqual(['cancelled', 'completed']);
    await mkdir(screenshots, { recursive: true });
    await page.screenshot({ path: resolve(screenshots, 'demo-page.png'), fullPage: true });
    expect(existsSync(resolve(screenshots, 'demo-page.png'))).toBe(true);
  });

  it('the child-process job shows its pid while running', async () => {
    await page.getByTestId('plugin').selectOption('child-process');
    await page.getByTestId('field-seconds').fill('1');
    await page.getByTestId('start').click();
    await expect.poll(() => page.getByTestId('message').textContent(), { timeout: 5_000 }).toMatch(/^pid \d+$/);
    await expect.poll(() => page.getByTestId('status').textContent(), { timeout: 10_000 }).toBe('completed');
    expect(JSON.parse((await page.getByTestId('result').textContent()) ?? '')).toMatchObject({ exitCode: 0 });
    expect(pageErrors).toEqual([]);
  });
});
