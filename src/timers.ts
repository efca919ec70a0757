/** setTimeout's largest delay; a larger one fires at once. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Call `due` once `at` (epoch ms) has come by the clock `now` — at once, synchronously, when it
 * already has. The timer is unref'd (a wait never keeps the process alive), armed in steps for a
 * wait longer than one timer, and armed again when it fires before `now` says so (a clock behind
 * the timers, as an injected one may be). Returns a function that cancels the wait.
 */
export function whenDue(at: number, now: () => number, due: () => void): () => void {
  let timer: NodeJS.Timeout | undefined;
  const check = (): void => {
    timer = undefined;
    const wait = at - now();
    if (wait <= 0) {
      due();
      return;
    }
    timer = setTimeout(check, Math.min(wait, MAX_TIMER_MS));
    timer.unref();
  };
  check();
  return () => {
    if (timer !== undefined) clearTimeout(timer);
    timer = undefined;
  };
}
