/** One timer for the whole page: relative times and running durations move on once a second. */
const tickers = new Set<(now: number) => void>();
let timer: ReturnType<typeof setInterval> | undefined;

/**
 * Call `tick` once a second with the time (and once now); the function returned stops it.
 * @example
 * ```ts
 * const stop = everySecond((now) => setText(age, formatRelative(job.createdAt, now)));
 * ```
 */
export function everySecond(tick: (now: number) => void): () => void {
  tickers.add(tick);
  tick(Date.now());
  timer ??= setInterval(() => {
    const now = Date.now();
    for (const each of tickers) each(now);
  }, 1_000);
  return () => {
    tickers.delete(tick);
    if (tickers.size === 0 && timer !== undefined) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}
