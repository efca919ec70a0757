import { isStatusEvent, type JobEvent, type JobStatusEvent } from '../../src/index.js';

/**
 * The event as a status event (one with the job's snapshot). Throws on an `output` or `gap` event,
 * or on none: a test that expects a status event fails when it gets anything else.
 */
export function statusEvent(event: JobEvent | undefined): JobStatusEvent {
  if (event === undefined) throw new Error('expected a status event, got none');
  if (!isStatusEvent(event)) throw new Error(`expected a status event, got ${JSON.stringify(event)}`);
  return event;
}

/** The events as status events; throws on any `output` or `gap` event among them (see {@link statusEvent}). */
export function statusEvents(events: readonly JobEvent[]): JobStatusEvent[] {
  return events.map((event) => statusEvent(event));
}
