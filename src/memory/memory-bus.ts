import type { BusHandlers, JobBus } from '../backend/job-bus.js';
import type { JobRecord } from '../backend/job-record.js';
import type { LoggedEvent } from '../backend/logged-event.js';

/** The in-process bus: what the memory store writes reaches the engine at once, in order. */
export class MemoryBus implements JobBus {
  #handlers: BusHandlers | undefined;

  subscribe(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    return Promise.resolve();
  }

  /** Nothing to release: the store stays readable after the tracker closes. */
  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The store appended an event. */
  event(event: LoggedEvent): void {
    this.#handlers?.event(event);
  }

  /** The store deleted a job. */
  removed(record: JobRecord): void {
    this.#handlers?.removed(record);
  }
}
