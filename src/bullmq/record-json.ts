import type { JobRecord } from '../backend/job-record.js';
import { JobwireError } from '../errors.js';

/**
 * A record read back from a database (the JSON the engine's record was stored as). Fields that
 * were `undefined` come back absent, which reads the same.
 * @throws JobwireError `UNAVAILABLE` when the stored text is not a record (foreign or damaged data).
 */
export function parseRecord(json: string | null | undefined): JobRecord {
  let record: JobRecord;
  try {
    record = JSON.parse(json ?? '') as JobRecord;
  } catch (cause) {
    throw new JobwireError('UNAVAILABLE', 'The job store holds a record that is not JSON', { cause });
  }
  if (typeof record !== 'object' || record === null || typeof record.id !== 'string' || typeof record.seq !== 'number') {
    throw new JobwireError('UNAVAILABLE', 'The job store holds something that is not a job record');
  }
  return record;
}

/**
 * A record read back with the job's seq as the database holds it now. Output appended after the
 * record was stored moved the seq on without rewriting the record: the record then says so (its
 * `seq` the last chunk's, its `event` `'output'`).
 * @throws JobwireError `UNAVAILABLE` as {@link parseRecord}.
 */
export function parseCurrentRecord(json: string | null | undefined, seq: number | string | null | undefined, lastOutput: boolean): JobRecord {
  const record = parseRecord(json);
  return lastOutput ? { ...record, seq: Number(seq), event: 'output' } : record;
}
