import type { JobTracker } from './job-tracker.js';

/**
 * In-package hooks on a tracker's `close()`, for what listens to the tracker itself (`tracker.on`)
 * rather than through its event hub, which ends its own iterators when the tracker closes: a
 * tenant-wide stream. Not exported from the package: no new public API.
 */

/** Per tracker (held weakly): the callbacks to run when its `close()` starts. */
const hooks = new WeakMap<JobTracker, Set<() => void>>();

/** The trackers whose `close()` has started. */
const closing = new WeakSet<JobTracker>();

/** True once `tracker.close()` has started (it may still be under way). */
export function isTrackerClosing(tracker: JobTracker): boolean {
  return closing.has(tracker);
}

/**
 * Run `callback` (once, synchronously; it must not throw) when `tracker.close()` starts. Returns
 * the function that unregisters it. On a tracker already closing, nothing is registered: check
 * {@link isTrackerClosing} first.
 */
export function onTrackerClose(tracker: JobTracker, callback: () => void): () => void {
  if (closing.has(tracker)) return () => undefined;
  let callbacks = hooks.get(tracker);
  if (!callbacks) hooks.set(tracker, (callbacks = new Set()));
  callbacks.add(callback);
  return () => void callbacks.delete(callback);
}

/** Called by `JobTracker.close()` when it starts: marks the tracker closing and runs its callbacks. */
export function runTrackerCloseHooks(tracker: JobTracker): void {
  if (closing.has(tracker)) return;
  closing.add(tracker);
  const callbacks = hooks.get(tracker);
  hooks.delete(tracker);
  if (callbacks) for (const callback of callbacks) callback();
}
