import { afterEach, describe, expect, it, vi } from 'vitest';
import { pause, reconnectDelay } from '../../src/client/backoff.js';

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

  it('pause ends at once when its signal aborts', async () => {
    const controller = new AbortController();
    const waiting = pause(60_000, controller.signal);
    controller.abort();
    await waiting;
    await pause(60_000, AbortSignal.abort());
  });
});
