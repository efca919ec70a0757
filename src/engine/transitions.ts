import type { JobStatus } from '../job.js';

/**
 * The only legal moves between statuses. `running → queued` exists for a job handed out again
 * (its worker stopped) and for retries. A terminal status has no way out.
 */
export const JOB_TRANSITIONS: Readonly<Record<JobStatus, readonly JobStatus[]>> = Object.freeze({
  queued: Object.freeze(['running', 'cancelled', 'failed'] as const),
  running: Object.freeze(['completed', 'failed', 'cancelled', 'queued'] as const),
  completed: Object.freeze([] as const),
  failed: Object.freeze([] as const),
  cancelled: Object.freeze([] as const),
});

/** True when a job may move from `from` to `to`. */
export function canTransition(from: JobStatus, to: JobStatus): boolean {
  return JOB_TRANSITIONS[from].includes(to);
}
