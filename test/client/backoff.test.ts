import { afterEach, describe, expect, it, vi } from 'vitest';
import { pause, reconnectDelay, retryAfterMs } from '../../src/client/backoff.js';
import { createJobClient, type ReconnectOptions } from '../../src/client/index.js';

describe('reconnect backoff', () => {
  afterEach(() => vi.restoreAllMocks());

  it('starts at the server’s retry (else initialDelayMs), doubles per failure up to maxDelayMs, jittered between half and all of it', () => {
    const delays = (random: number, retry: number | undefined) => {
      vi.spyOn(Math, 'random').mockReturnValue(random);
      return [0, 1, 2, 3, 10, 100].map((failures) => reconnectDelay(failures, retry, { initialDelayMs: 100, maxDelayMs: 1_000 }));
    };
    expect(delays(0.999_999, undefined).map(Math.round)).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(delays(0, undefined)).toEqual([50, 100, 200, 400, 500, 500]);
    expect(delays(0, 30)).toEqual([15, 30, 60, 120, 500, 500]);
    vi.spyOn(Math, 'random').mockReturnValue(0);
    expect(reconnectDelay(0, undefined)).toBe(250); // defaults: 500 ms, up to 15 s
    expect(reconnectDelay(20, undefined)).toBe(7_500);
  });

  it('a server’s retry: 0 still doubles from a millisecond: a failing server is never asked in a loop', () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999_999);
    expect([0, 1, 5].map((failures) => Math.round(reconnectDelay(failures, 0, { initialDelayMs: 100, maxDelayMs: 1_000 })))).toEqual([1, 2, 32]);
  });

  it('Retry-After: seconds, or an HTTP date (0 once past); nothing for anything else', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Sun, 01 Jun 2025 12:00:30 GMT', now)).toBe(30_000);
    expect(retryAfterMs('Sun, 01 Jun 2025 11:00:00 GMT', now)).toBe(0);
    for (const value of [null, '', 'soon', '-5', '1.5']) expect(retryAfterMs(value, now), String(value)).toBeUndefined();
  });

  it('pause lasts its time by the wall clock even when a timer fires early (a busy or descheduled process)', async () => {
    const realSetTimeout = globalThis.setTimeout;
    // Timers that fire after a fifth of their delay: what a stale event-loop clock can do.
    const early = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((callback: () => void, ms?: number) => realSetTimeout(callback, Math.floor((ms ?? 0) / 5))) as typeof setTimeout);
    try {
      const started = Date.now();
      await pause(50, new AbortController().signal);
      expect(Date.now() - started).toBeGreaterThanOrEqual(50);
      expect(early.mock.calls.length).toBeGreaterThan(1); // armed again for what was left
    } finally {
      early.mockRestore();
    }
  });

  it('pause ends at once when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await waiting;
    await pause(60_000, AbortSignal.abort());
  });
});

describe('reconnect options', () => {
  it('a first wait that is not a positive finite number, or a longest wait below it, is INVALID_CONFIG when the client is made', () => {
    const make = (reconnect: unknown) => () => createJobClient({ baseUrl: 'http://api.test', reconnect: reconnect as ReconnectOptions });
    const invalid = expect.objectContaining({ code: 'INVALID_CONFIG' }) as Error;
    for (const initialDelayMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '500', null]) expect(make({ initialDelayMs }), String(initialDelayMs)).toThrow(invalid);
    for (const maxDelayMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, '500']) expect(make({ maxDelayMs }), String(maxDelayMs)).toThrow(invalid);
    expect(make({ initialDelayMs: 1_000, maxDelayMs: 999 })).toThrow(invalid);
    expect(make({ initialDelayMs: 20_000 })).toThrow(invalid); // above the default maxDelayMs
    expect(make(42)).toThrow(invalid);
    for (const fine of [undefined, {}, { initialDelayMs: 1 }, { initialDelayMs: 0.5, maxDelayMs: 0.5 }, { maxDelayMs: 500 }, { initialDelayMs: 20_000, maxDelayMs: 20_000 }]) make(fine)();
  });
});
