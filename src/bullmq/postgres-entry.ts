import type { Pool } from 'pg';
import type { JobRecord } from '../backend/job-record.js';

/** The schema BullMQ's PostgreSQL backend keeps its tables and functions in (its default; the backend sets no other). */
const BULLMQ_SCHEMA = 'bullmq';

/** The types of BullMQ's `add_job` arguments, in order (BullMQ's `add_job.sql` calls it with these). */
const ADD_JOB_TYPES = ['text', 'text', 'text', 'jsonb', 'jsonb', 'integer', 'bigint', 'bigint', 'integer', 'text', 'text', 'text', 'text', 'text', 'boolean'] as const;

/**
 * How a job's BullMQ entry is added in the statement that creates its record, on PostgreSQL: the
 * record and its BullMQ job are then created together or not at all, in one statement and one
 * commit, where a submit otherwise took two (the record's insert, then BullMQ's `add_job`). BullMQ's
 * functions carry their own `search_path`, so a statement of jobwire's can call them.
 */
export interface QueueEntryInsert {
  /** The call that adds the entry, its arguments numbered from `$<first>`. */
  call(first: number): string;
  /** Its arguments for a record, as BullMQ's `Queue.add` would send them; undefined for a record whose BullMQ job exists already (an adopted one). */
  args(record: JobRecord): unknown[] | undefined;
  /** Records whose create added their BullMQ job: the dispatcher's `enqueue` has nothing to do for them. */
  readonly added: WeakSet<JobRecord>;
}

/**
 * The entry insert calling BullMQ's `add_job` (in `schema`, BullMQ's default unless a test names
 * another), or undefined when there is no such function with these arguments (another version of
 * BullMQ: a submit then adds its BullMQ job in a statement of its own, as before).
 */
export async function queueEntryInsert(pool: Pool, args: QueueEntryInsert['args'], schema = BULLMQ_SCHEMA): Promise<QueueEntryInsert | undefined> {
  const signature = `${schema}.add_job(${ADD_JOB_TYPES.join(', ')})`;
  const { rows } = await pool.query<{ found: boolean }>('SELECT to_regprocedure($1) IS NOT NULL AS found', [signature]);
  if (!rows[0]?.found) return undefined;
  return {
    call: (first) => `${schema}.add_job(${ADD_JOB_TYPES.map((type, i) => `$${first + i}::${type}`).join(', ')})`,
    args,
    added: new WeakSet(),
  };
}
