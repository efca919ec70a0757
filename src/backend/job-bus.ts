import type { JobRecord } from './job-record.js';
import type { LoggedEvent } from './logged-event.js';

/** What the engine gives {@link JobBus.subscribe}. Handlers never throw and never block. */
export interface BusHandlers {
  /**
   * An event the store appended, in any process. Per job, in seq order. A terminal event is also
   * how a cancel reaches the process that runs the job: hearing that its job ended elsewhere, the
   * engine aborts the run.
   */
  event(event: LoggedEvent): void;
  /** A job was deleted (removed, or expired and swept), in any process; its last record. */
  removed(record: JobRecord): void;
  /**
   * Deliveries may have been lost (the connection broke and came back): the engine re-reads the
   * logs it follows, and the record of every job running in this process, aborting the runs whose
   * job ended or was removed meanwhile (a cancel sent during the gap). Call it after every
   * reconnect, once the subscription is live again.
   */
  resync(): void;
}

/**
 * Carries what happens to jobs to every process of a deployment: the events and removals its
 * {@link JobStore} writes. The in-memory bus calls the handlers in the same process; a distributed
 * one uses the database's own pub/sub (Redis, PostgreSQL LISTEN/NOTIFY). A cancel needs nothing
 * more: the `cancelled` event it writes reaches the process running the job, which aborts it.
 *
 * Delivery may be at-most-once (pub/sub), as long as a lost delivery is followed by `resync()`
 * once the bus hears again: the logs in the store are the truth, the bus only says when to look.
 */
export interface JobBus {
  /**
   * Start delivering to `handlers` (called once, by the engine, when the backend opens). Resolves
   * once the subscription is live: an event committed after that is delivered. A bus that loses its
   * connection must reconnect by itself (with backoff), re-subscribe, and then call `resync()`.
   */
  subscribe(handlers: BusHandlers): Promise<void>;
  /** Stop delivering and release the connection; called once, last. */
  close(): Promise<void>;
}
