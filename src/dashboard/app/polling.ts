/**
 * Call `task` every `everyMs` while the page is visible (and at once when it becomes visible
 * again); `soon()` calls it shortly, once for a burst of calls. The function returned stops it.
 */
export function poll(task: () => Promise<void>, everyMs: number, soonMs: number): { soon(): void; stop(): void } {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let running = false;
  let stopped = false;

  const plan = (ms: number): void => {
    clearTimeout(timer);
    if (!stopped && document.visibilityState === 'visible') timer = setTimeout(run, ms);
  };
  async function run(): Promise<void> {
    if (running) return;
    running = true;
    try {
      await task();
    } finally {
      running = false;
      plan(everyMs);
    }
  }
  const onVisibility = (): void => {
    if (document.visibilityState === 'visible') plan(0);
    else clearTimeout(timer);
  };
  document.addEventListener('visibilitychange', onVisibility);
  plan(0);
  return {
    soon() {
      plan(soonMs);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisibility);
    },
  };
}
