/**
 * Wait until every promise has settled, or `timeoutMs` has passed, whichever comes first (the
 * timer is cleared either way). Used on shutdown: running jobs get that long to finish.
 */
export async function settleWithin(promises: Iterable<Promise<unknown>>, timeoutMs: number): Promise<void> {
  const pending = [...promises];
  if (pending.length === 0) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, timeoutMs);
  });
  try {
    await Promise.race([Promise.allSettled(pending), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
