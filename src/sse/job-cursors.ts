import { JobwireError } from '../errors.js';
import { JOB_ID_CHARS } from '../valid-job-id.js';

/** One `<jobId>:<seq>` pair: the id of a frame of a several-jobs stream, and a job's cursor. */
const PAIR = new RegExp(`^(${JOB_ID_CHARS}):(\\d{1,15})$`);

/** The SSE `id` of a job event in a stream of several jobs: `<jobId>:<seq>`. */
export function cursorId(jobId: string, seq: number): string {
  return `${jobId}:${seq}`;
}

/**
 * The per-job cursors of a several-jobs `Last-Event-ID`: comma-separated `<jobId>:<seq>` pairs
 * (spaces around a pair are ignored), e.g. `a:12,b:3`. A job named twice keeps its greatest seq
 * (nothing it already has is sent again). Nothing (`undefined`, `null`, blank) is no cursor at all.
 * @throws JobwireError `INVALID_REQUEST` for anything else.
 * @example
 * ```ts
 * parseJobCursors('a:12, b:3'); // Map { 'a' => 12, 'b' => 3 }
 * ```
 */
export function parseJobCursors(value: string | null | undefined): Map<string, number> {
  const cursors = new Map<string, number>();
  if (value === undefined || value === null) return cursors;
  if (typeof value !== 'string') throw new JobwireError('INVALID_REQUEST', 'Last-Event-ID must be a string of `<jobId>:<seq>` pairs');
  if (value.trim() === '') return cursors;
  for (const part of value.split(',')) {
    const match = PAIR.exec(part.trim());
    if (!match) throw new JobwireError('INVALID_REQUEST', 'Last-Event-ID must be comma-separated `<jobId>:<seq>` pairs (`a:12,b:3`)');
    const [, jobId = '', digits = ''] = match;
    cursors.set(jobId, Math.max(cursors.get(jobId) ?? 0, Number(digits)));
  }
  return cursors;
}
