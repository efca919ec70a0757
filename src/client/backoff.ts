import type { ReconnectOptions } from './options.js';

/**
 * How long to wait before reconnect number `failures` (0 after a connection that delivered):
 * `base` (the server's `retry:`, else `initialDelayMs`) doubled per failure up to `maxDelayMs`,
 * then between half of it and all of it (jitter, so clients a restart cut off do not return together).
 */
export function reconnectDelay(failures: number, serverRetryMs: number | undefined, options: ReconnectOptions = {}): number {
  const base = serverRetryMs ?? options.initialDelayMs ?? 500;
  const capped = Math.min(options.maxDelayMs ?? 15_000, base * 2 ** Math.min(failures, 30));
  return capped / 2 + (Math.random() * capped) / 2;
}

/** Resolve after `ms`, or at once when `signal` aborts (never rejects). */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
