import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError, JobTracker, LocalPluginManager } from '../../src/index.js';
import { backoffDelay, checkBackoff } from '../../src/retry/retry-policy.js';
import { JobwireError } from '../../src/errors.js';
import { codeOf } from '../helpers/codes.js';

const fail = (message: string): JobwireError => new JobwireError('INVALID_REQUEST', message);

describe('backoffDelay', () => {
  it('waits delayMs before every retry with a fixed backoff', () => {
    expect([1, 2, 3, 7].map((attempt) => backoffDelay({ type: 'fixed', delayMs: 250 }, attempt))).toEqual([250, 250, 250, 250]);
  });

  it('doubles the wait after each failed try with an exponential backoff, capped by maxDelayMs', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay({ type: 'exponential', delayMs: 1000 }, attempt))).toEqual([1000, 2000, 4000, 8000]);
    expect([1, 2, 3, 4].map((attempt) => backoffDelay({ type: 'exponential', delayMs: 1000, maxDelayMs: 3000 }, attempt))).toEqual([1000, 2000, 3000, 3000]);
  });

  it('takes up to the jitter fraction off the wait', () => {
    const policy = { type: 'fixed', delayMs: 1000, jitter: 0.5 } as const;
    expect(backoffDelay(policy, 1, () => 0)).toBe(1000);
    expect(backoffDelay(policy, 1, () => 0.999_999)).toBe(500);
    expect(backoffDelay(policy, 1, () => 0.5)).toBe(750);
  });

  it('never waits longer than a timer can (a huge exponential stays finite)', () => {
    expect(backoffDelay({ type: 'exponential', delayMs: 1000 }, 900)).toBe(2_147_483_647);
  });
});

describe('retry options are checked', () => {
  it.each([
    ['not an object', 5],
    ['an unknown type', { type: 'linear', delayMs: 10 }],
    ['a negative delay', { type: 'fixed', delayMs: -1 }],
    ['a fractional delay', { type: 'fixed', delayMs: 1.5 }],
    ['a jitter above 1', { type: 'fixed', delayMs: 10, jitter: 2 }],
    ['an unknown field', { type: 'fixed', delayMs: 10, factor: 3 }],
  ])('a backoff with %s is refused', (_why, value) => {
    expect(() => checkBackoff(value, 'backoff', fail)).toThrow(JobwireError);
  });

  it('submit refuses bad attempts, backoff, retryOnTimeout, delayMs and runAt with INVALID_REQUEST, and writes nothing', async () => {
    const plugins = new LocalPluginManager();
    plugins.register(definePlugin({ name: 'noop', input: z.object({}), run: () => null }));
    const tracker = new JobTracker({ plugins });
    const bad: object[] = [
      { attempts: 0 },
      { attempts: 1.5 },
      { attempts: 1001 },
      { attempts: '3' },
      { backoff: { type: 'fixed' } },
      { retryOnTimeout: 'yes' },
      { delayMs: -5 },
      { delayMs: 10, runAt: Date.now() + 10 },
      { runAt: 'tomorrow' },
      { runAt: '2026-13-45T00:00:00Z' },
      { runAt: '2031-02-30T00:00:00Z' },
      { runAt: '2030-01-01T22:00:00' },
      { runAt: '2030-01-01T22:00:00Zjunk' },
      { runAt: '2031-04-31T12:00:00+02:00' },
      { delayMs: 11 * 366 * 86_400_000 },
      { runAt: new Date(Number.NaN) },
      { runAt: 1.5 },
    ];
    for (const options of bad) {
      expect(await codeOf(tracker.submit('noop', {}, options as never)), JSON.stringify(options)).toBe('INVALID_REQUEST');
    }
    expect((await tracker.stats()).total).toBe(0);
    await tracker.close();
  });

  it('definePlugin refuses a bad retry policy with INVALID_CONFIG naming the field', () => {
    for (const retry of [{ attempts: 0 }, { backoff: { type: 'fixed', delayMs: 'soon' } }, { retryOnTimeout: 1 }, { tries: 3 }, 'often']) {
      let error: unknown;
      try {
        definePlugin({ name: 'bad', input: z.object({}), retry: retry as never, run: () => null });
      } catch (caught) {
        error = caught;
      }
      expect(isJobwireError(error) && error.code, JSON.stringify(retry)).toBe('INVALID_CONFIG');
      expect((error as Error).message).toMatch(/retry/);
    }
  });

  it('a plugin lists its retry policy in its meta', () => {
    const plugins = new LocalPluginManager();
    plugins.register(definePlugin({ name: 'flaky', input: z.object({}), retry: { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } }, run: () => null }));
    expect(plugins.getMeta('flaky')?.retry).toEqual({ attempts: 3, backoff: { type: 'fixed', delayMs: 10 } });
  });
});

describe('runPlugin', () => {
  it('gives the plugin the attempt it is told, so a plugin’s retry behaviour is testable on its own', async () => {
    const { runPlugin } = await import('../../src/testing/index.js');
    const plugin = definePlugin({ name: 'tries', input: z.object({}), run: (_input, ctx) => ({ attempt: ctx.attempt }) });
    expect((await runPlugin(plugin, {})).result).toEqual({ attempt: 1 });
    expect((await runPlugin(plugin, {}, { attempt: 3 })).result).toEqual({ attempt: 3 });
  });
});
