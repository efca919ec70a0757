import { JobwireError } from '../errors.js';
import { isValidJobId } from '../valid-job-id.js';

/**
 * `id`, when it can name a job: 1–128 of `A-Z a-z 0-9 _ -`, and not `events` (the route of
 * several jobs' stream: `GET /jobs/events` would answer something else than a job).
 * @throws JobwireError `JOB_NOT_FOUND`, as the server answers for a job it does not know (with
 * `details: { jobId }` when `many`, as its several-jobs routes do), so nothing is asked of it.
 */
export function checkJobId(id: unknown, many?: boolean): string {
  if (isValidJobId(id) && id !== 'events') return id;
  throw unknownJob(id, many);
}

/** The `JOB_NOT_FOUND` the server answers for `id`: with `details: { jobId }` on its routes of several jobs. */
export function unknownJob(id: unknown, many?: boolean): JobwireError {
  return new JobwireError('JOB_NOT_FOUND', `Unknown job ${String(id)}`, many ? { details: { jobId: id } } : {});
}
