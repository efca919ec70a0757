import { JOB_STATUSES, type JobStatus } from '../job.js';
import type { JobCounts } from '../tracker/types.js';

/**
 * Counts for every status, read through `countOf`, their total, and `delayed` (the queued jobs
 * waiting for their `runAt`): what every store's `counts()` returns.
 */
export function jobCounts(countOf: (status: JobStatus) => number, delayed: number): JobCounts {
  const counts = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0, total: 0, delayed };
  for (const status of JOB_STATUSES) {
    counts[status] = countOf(status);
    counts.total += counts[status];
  }
  return counts;
}
