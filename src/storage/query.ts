import { JobwireError } from '../errors.js';
import { isValidJobId } from '../ids.js';
import type { ResultQuery, StoredResult } from './types.js';

/** Default and largest page sizes for listings. */
export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 1000;

/**
 * A page size from user input: default when absent, clamped to {@link MAX_LIMIT}.
 * @throws JobwireError `INVALID_REQUEST` for anything but a positive integer.
 */
export function normalizeLimit(limit: unknown): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (typeof limit !== 'number' || !Number.isInteger(limit) || limit < 1) {
    throw new JobwireError('INVALID_REQUEST', `limit must be a positive integer, got ${JSON.stringify(limit) ?? String(limit)}`);
  }
  return Math.min(limit, MAX_LIMIT);
}

/** True when `record` matches the filters of `query`. */
export function matchesResultQuery(record: StoredResult, query: ResultQuery): boolean {
  return (query.tenantId === undefined || record.tenantId === query.tenantId) && (query.plugin === undefined || record.plugin.name === query.plugin);
}

/**
 * A JSON copy of a record, checked: a valid job id and JSON-serialisable content.
 * @throws JobwireError `INVALID_REQUEST` (bad id) or `STORAGE_FAILED` (not serialisable).
 */
export function serializeResult(record: StoredResult): string {
  if (!isValidJobId(record.jobId)) {
    throw new JobwireError('INVALID_REQUEST', `Cannot store a result for job id ${JSON.stringify(record.jobId) ?? String(record.jobId)}`);
  }
  try {
    return JSON.stringify(record);
  } catch (error) {
    throw new JobwireError('STORAGE_FAILED', `Result of job ${record.jobId} is not JSON-serialisable`, { cause: error });
  }
}
