import type { JobSnapshot, JobStatus } from '../../job.js';
import { h, setAttr, setText } from './dom.js';

/**
 * How a job reads on the page: its status, with two kinds of `queued` told apart — `delayed` (waiting
 * for its `runAt`) and `retrying` (a try failed, the next waits for its backoff).
 */
export type Phase = JobStatus | 'delayed' | 'retrying';

/** Every status the filters offer, in life order. */
export const STATUSES: readonly JobStatus[] = ['queued', 'running', 'completed', 'failed', 'cancelled'];

/** The phase of a job now. */
export function phaseOf(job: JobSnapshot, now: number): Phase {
  if (job.status !== 'queued' || job.runAt === undefined || Date.parse(job.runAt) <= now) return job.status;
  return job.attempt > 1 ? 'retrying' : 'delayed';
}

/** True while a job may still change: the page offers Cancel then. */
export function isLive(status: JobStatus): boolean {
  return status === 'queued' || status === 'running';
}

/** True for a job `tracker.retry` re-runs: the page offers Re-run then. */
export function canRerun(status: JobStatus): boolean {
  return status === 'failed' || status === 'cancelled';
}

/** A status pill: a coloured dot and the phase. `data-status` holds the job's status itself. */
export function statusPill(): HTMLSpanElement {
  return h('span', { class: 'pill' }, h('span', { class: 'pill-dot', 'aria-hidden': 'true' }), h('span', { class: 'pill-label' }));
}

/** Show `job`'s phase in a pill made by {@link statusPill}. */
export function updatePill(pill: HTMLElement, job: JobSnapshot, now: number): void {
  const phase = phaseOf(job, now);
  setAttr(pill, 'data-status', job.status);
  setAttr(pill, 'data-phase', phase);
  const label = pill.lastElementChild;
  if (label) setText(label, phase);
}
