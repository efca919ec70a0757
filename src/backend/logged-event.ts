import type { JobEvent, JobEventType } from '../job.js';
import type { JobRecord } from './job-record.js';

/**
 * One event of a job's log, as a store reads it back or a bus delivers it: its job, seq and type at
 * once, the whole {@link JobEvent} (with the job's snapshot) only when asked, so an event nobody
 * reads is never built or parsed.
 *
 * `event()` returns the same object on every call: the engine hands that one object to every
 * reader, which is what lets many SSE streams share one serialised frame.
 */
export interface LoggedEvent {
  readonly jobId: string;
  readonly seq: number;
  readonly type: JobEventType;
  /** The event; built (or parsed) on the first call, the same object afterwards. */
  event(): JobEvent;
  /**
   * The job's record as of this event, when the driver holds it at hand (an in-process store): the
   * engine then reads what it needs (times, plugin) from it instead of building the event. Optional.
   */
  record?(): JobRecord;
}
