/**
 * Call `task` every `everyMs` while the page is visible (and at once when it becomes visible
 * again); `soon()` brings the next call forward to within `soonMs` — once for a burst of calls, and
 * never put off by a steady stream of them. A call of `task` that answers `false` pauses the
 * polling until `resume()` (a refusal: asking again will not help).
 */
export function poll(task: () => Promise<boolean>, everyMs: number, soonMs: number): { soon(): void; resume(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let dueAt = Number.POSITIVE_INFINITY;
  let running = false;
  /** `soon()` was called during a call: what it asks for may have come too late for that one. */
  let again = false;
  let paused = false;
  let stopped = false;

  const plan = (ms: number): void => {
    clearTimeout(timer);
    timer = undefined;
    dueAt = Number.POSITIVE_INFINITY;
    if (stopped || paused || document.visibilityState !== 'visible') return;
    timer = setTimeout(run, ms);
    dueAt = Date.now() + ms;
  };
  async function run(): Promise<void> {
    if (running) return;
    running = true;
    again = false;
    let goOn = true;
    try {
      goOn = await task();
    } finally {
      running = false;
      if (!goOn) paused = true;
      plan(again ? soonMs : everyMs);
    }
  }
  const onVisibility = (): void => {
    plan(0); // visible: at once; hidden: nothing until it is visible again
  };
  document.addEventListener('visibilitychange', onVisibility);
  plan(0);
  return {
    soon() {
      if (running) again = true;
      else if (dueAt > Date.now() + soonMs) plan(soonMs); // else a call is coming soon enough
    },
    resume() {
      paused = false;
      if (running) again = true;
      else plan(0);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
