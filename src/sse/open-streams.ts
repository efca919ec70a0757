import type { JobTracker } from '../tracker/job-tracker.js';

/** Open 200-streams per tracker (one job's and several jobs' alike), for {@link countOpenStreams}. */
const openCounts = new WeakMap<JobTracker, number>();

/** Count a stream of `tracker` as opened (+1) or ended (-1). */
export function addOpenStream(tracker: JobTracker, delta: 1 | -1): void {
  openCounts.set(tracker, (openCounts.get(tracker) ?? 0) + delta);
}

/**
 * How many event streams of this tracker are open now (opened with status 200 and not yet ended or
 * closed): one job's (`openJobStream`), several jobs' and tenant-wide ones (`openJobsStream`). A
 * gauge for metrics, and a way to check that disconnected clients free their streams.
 * @example
 * ```ts
 * console.log(`${countOpenStreams(tracker)} clients are following jobs`);
 * ```
 */
export function countOpenStreams(tracker: JobTracker): number {
  return openCounts.get(tracker) ?? 0;
}
