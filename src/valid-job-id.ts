/**
 * The characters and length of a job id: 1–128 of `A-Z a-z 0-9 _ -` (a generated one is 22). A
 * module of its own, with no Node import, so that the browser client checks ids the same way.
 */
export const JOB_ID_CHARS = '[A-Za-z0-9_-]{1,128}';

const JOB_ID_PATTERN = new RegExp(`^${JOB_ID_CHARS}$`);

/** True when `id` is a string safe to use as a job id, a file name or a URL segment. */
export function isValidJobId(id: unknown): id is string {
  return typeof id === 'string' && JOB_ID_PATTERN.test(id);
}
