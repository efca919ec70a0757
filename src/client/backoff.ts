import type { ReconnectOptions } from './options.js';

/**
 * How long to wait before a reconnect after `failures` failed tries since the last connection the
 * server opened: `base` (the server's `retry:`, else `initialDelayMs`; at least 1 ms) doubled per
 * failure up to `maxDelayMs`, then between half of it and all of it (jitter, so clients a restart
 * cut off do not return together).
 */
export function reconnectDelay(failures: number, serverRetryMs: number | undefined, options: ReconnectOptions = {}): number {
  const base = Math.max(1, serverRetryMs ?? options.initialDelayMs ?? 500);
  const capped = Math.min(options.maxDelayMs ?? 15_000, base * 2 ** Math.min(failures, 30));
  return capped / 2 + (Math.random() * capped) / 2;
}

/**
 * The wait a `Retry-After` header asks for, in ms: seconds, or an HTTP date (0 when it is past);
 * `undefined` without one, or when it is neither.
 * @example retryAfterMs('120') // 120_000
 */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = /[a-z]/i.test(value) ? Date.parse(value) : Number.NaN; // a date names its day and month
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * Resolve after `ms` of wall-clock time, or at once when `signal` aborts (never rejects). A timer may
 * fire early by the time its event-loop turn had already run (a busy or descheduled process): it is
 * armed again for what is left.
 */
export function pause(ms: number, signal: AbortSignal): Promise<void> {
  const until = Date.now() + ms;
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const wake = (): void => {
      const left = until - Date.now();
      if (left > 0) timer = setTimeout(wake, left);
      else done();
    };
    let timer = setTimeout(wake, ms);
    if (signal.aborted) done();
    else signal.addEventListener('abort', done, { once: true });
  });
}
