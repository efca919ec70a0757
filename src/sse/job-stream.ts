import { JobwireError, messageOf } from '../errors.js';
import { isStatusEvent, isTerminalStatus, type JobEvent, type JobSnapshot, type JobStatusEvent } from '../job.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { encodeSSE } from './encode.js';
import { FrameStream, type FrameSource } from './frame-stream.js';
import { frameMaker, streamSettings, type SSEStreamOptions, type StreamSettings } from './stream-options.js';

export { countOpenStreams } from './open-streams.js';

/** Options for {@link openJobStream}. */
export interface JobStreamOptions extends SSEStreamOptions {
  /** The client's `Last-Event-ID`: replay only events after it. A non-integer is `INVALID_REQUEST`. */
  lastEventId?: string | number | null | undefined;
  /**
   * After the terminal event (`completed`, `failed` or `cancelled`), send one more event of this
   * name, with the terminal status as its data and no `id`. A client that closes on one event name
   * then stops after every ending — htmx: `sse-close="end"` (htmx 2) or `hx-sse:close="end"` (htmx 4).
   * CR, LF or NUL in it is `INVALID_REQUEST`.
   * @example 'end'
   */
  endEvent?: string;
  /**
   * The job as the caller just read it (to authorize the request, say): the stream starts from it
   * instead of reading the job again. It must be the snapshot of `id`; a different id is
   * `INVALID_REQUEST`.
   */
  job?: JobSnapshot;
}

/**
 * An open event stream for one job: check `status`, then iterate its SSE frames (strings; one
 * string holds several frames when several events were waiting).
 * 200: frames follow; 204: the client already saw the terminal event (tell EventSource to stop);
 * 404: unknown job.
 */
export interface JobStream extends AsyncIterable<string> {
  readonly status: 200 | 204 | 404;
  /** The job id the stream follows. */
  readonly jobId: string;
  /** Stop at once: unsubscribes from the job and clears the heartbeat timer. Safe to call twice. */
  close(): void;
  /** True once the stream ended or was closed. */
  readonly closed: boolean;
}

function parseLastEventId(value: JobStreamOptions['lastEventId']): number {
  if (value === undefined || value === null || value === '') return 0;
  const text = String(value).trim();
  if (!/^\d{1,15}$/.test(text)) throw new JobwireError('INVALID_REQUEST', 'Last-Event-ID must be a non-negative integer');
  return Number(text);
}

/** True for the event that ends a job's stream: `completed`, `failed` or `cancelled`. */
function isTerminalEvent(event: JobEvent): event is JobStatusEvent {
  return isStatusEvent(event) && isTerminalStatus(event.job.status);
}

/** Default-serialised frames by event: streams that share an event object share its frame. */
const defaultFrames = new WeakMap<JobEvent, string>();

const seqOf = (event: JobEvent): number => event.seq;

class Stream extends FrameStream implements JobStream {
  readonly jobId: string;

  constructor(tracker: JobTracker, status: 200 | 204 | 404, jobId: string, settings: StreamSettings, events?: AsyncIterableIterator<JobEvent>, first?: JobEvent) {
    super(tracker, status, events && oneJobSource(settings, events, first), { ...settings, name: 'job stream' });
    this.jobId = jobId;
  }
}

/** A job's events as frames with its seq as id; over after the terminal event (and the end event, when one is set). */
function oneJobSource(settings: StreamSettings, events: AsyncIterableIterator<JobEvent>, first: JobEvent | undefined): FrameSource {
  const { endEvent } = settings;
  return {
    events,
    first,
    frame: frameMaker(settings, seqOf, defaultFrames),
    // The closing event has no `id`, so a reconnect still resumes after the terminal event.
    ending: (event) => (isTerminalEvent(event) ? (endEvent === undefined ? '' : encodeSSE({ event: endEvent, data: event.job.status })) : undefined),
  };
}

/**
 * Open an SSE stream for a job, replaying after `lastEventId`. Iterate the result for frames:
 * `retry:` first, then `id: <seq>`, `event: <type>`, `data: <JSON>` per event (status events,
 * `output` and `gap` alike), heartbeat comments in silences; it ends after the terminal event (and
 * the `endEvent`, when one is set). Events that are already waiting come as one string of several
 * frames, so a burst of output goes out in one write.
 *
 * @throws JobwireError `INVALID_REQUEST` for a malformed `lastEventId`, delay or `endEvent`, or a
 * `job` of another id.
 * @example
 * ```ts
 * const stream = await openJobStream(tracker, id, { lastEventId: request.headers.get('last-event-id') });
 * return toSSEResponse(stream);
 * ```
 */
export async function openJobStream(tracker: JobTracker, id: string, options: JobStreamOptions = {}): Promise<JobStream> {
  const afterSeq = parseLastEventId(options.lastEventId);
  const settings = streamSettings(options);
  if (options.job !== undefined && options.job.id !== id) {
    throw new JobwireError('INVALID_REQUEST', `\`job\` is the snapshot of job ${String(options.job.id)}, not of ${id}`);
  }
  const job = options.job ?? (await tracker.get(id));
  if (!job) return new Stream(tracker, 404, id, settings);
  const events = tracker.events(id, { afterSeq, signal: options.signal });
  if (!isTerminalStatus(job.status)) return new Stream(tracker, 200, id, settings, events);
  // A finished job: anything left to replay? If not, the client has seen the end.
  let first: IteratorResult<JobEvent>;
  try {
    first = await events.next();
  } catch (error) {
    if (error instanceof JobwireError && error.code === 'JOB_NOT_FOUND') return new Stream(tracker, 404, id, settings);
    throw new JobwireError('INVALID_REQUEST', messageOf(error), { cause: error });
  }
  if (first.done) return new Stream(tracker, 204, id, settings);
  return new Stream(tracker, 200, id, settings, events, first.value);
}
