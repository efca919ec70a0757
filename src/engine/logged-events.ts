import type { LoggedEvent } from '../backend/logged-event.js';
import { JobwireError } from '../errors.js';
import type { JobEvent } from '../job.js';

/** A {@link LoggedEvent} for an event already built (a driver that keeps events as objects). */
export function loggedEvent(event: JobEvent): LoggedEvent {
  return { jobId: event.jobId, seq: event.seq, type: event.type, event: () => event };
}

/**
 * A {@link LoggedEvent} from the JSON text of an event (`JSON.stringify(eventOf(…))`), as a store
 * or bus that keeps JSON reads it back. Parsed once, here.
 * @throws JobwireError `UNAVAILABLE` when the text is not an event (a store holding foreign data).
 */
export function parseLoggedEvent(json: string): LoggedEvent {
  let event: JobEvent;
  try {
    event = JSON.parse(json) as JobEvent;
  } catch (cause) {
    throw new JobwireError('UNAVAILABLE', 'The job store returned an event that is not JSON', { cause });
  }
  if (typeof event !== 'object' || event === null || typeof event.seq !== 'number' || typeof event.jobId !== 'string' || typeof event.type !== 'string') {
    throw new JobwireError('UNAVAILABLE', 'The job store returned something that is not a job event');
  }
  return loggedEvent(event);
}
