import { JobwireError, isJobwireError } from '../errors.js';
import { isValidJobId } from '../ids.js';
import { isTerminalEventType, isTerminalStatus, type JobEvent, type JobSnapshot, type TerminalStatus } from '../job.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { checkListQuery } from '../tracker/options.js';
import type { ListQuery } from '../tracker/types.js';
import { encodeSSE } from './encode.js';
import { FrameStream, type FrameSource } from './frame-stream.js';
import { cursorId, parseJobCursors } from './job-cursors.js';
import { LiveStatusEvents, type JobVerdict } from './live-status-events.js';
import { MergedEvents, type MergedPart } from './merged-events.js';
import { frameMaker, streamSettings, type SSEStreamOptions, type StreamSettings } from './stream-options.js';

/** The most jobs one stream follows (after de-duplication of `ids`). */
export const MAX_STREAM_JOBS = 100;

/** The default bound of events a tenant-wide stream keeps waiting for a slow reader before it closes. */
export const DEFAULT_MAX_WAITING_EVENTS = 10_000;

/** The filter of a tenant-wide stream: `GET /jobs`'s, without paging. */
export type JobsStreamQuery = Pick<ListQuery, 'tenantId' | 'workspaceId' | 'status' | 'plugin'>;

/** Options for {@link openJobsStream}: `ids` for several jobs, else a tenant-wide stream filtered by `query`. */
export interface JobsStreamOptions extends SSEStreamOptions {
  /**
   * The jobs to follow, 1 to {@link MAX_STREAM_JOBS} once repeats are dropped (else
   * `INVALID_REQUEST`). Every one must exist: the first that does not makes the stream a 404.
   * Not with `query`.
   */
  ids?: readonly string[];
  /**
   * Without `ids`: follow the status events of every job that matches, live (no replay). A job that
   * matched stays followed up to its terminal event, so a page sees it leave a `status` filter.
   * Not with `ids`; `limit` or `cursor` in it is `INVALID_REQUEST`.
   * @default {} (every job)
   */
  query?: JobsStreamQuery;
  /**
   * With `ids`: the client's `Last-Event-ID`, comma-separated `<jobId>:<seq>` pairs (`a:12,b:3`):
   * each job replays only its events after its seq; a job with no pair replays from the start; a
   * pair for a job not in `ids` is ignored. Anything else is `INVALID_REQUEST`. Ignored by a
   * tenant-wide stream, which always starts live.
   */
  lastEventId?: string | null | undefined;
  /**
   * Whether the caller may see a job. With `ids`: asked for each job before anything is sent; a
   * throw rejects `openJobsStream` with it, `false` with `FORBIDDEN`. Tenant-wide: asked once per
   * job, before its first event; `false` or a throw skips the job silently (the verdict is kept for
   * the stream's life).
   */
  authorizeJob?: (job: JobSnapshot) => boolean | void | Promise<boolean | void>;
  /**
   * With `ids`: once every job has sent its terminal event, one more event of this name, with no
   * `id` and as data a JSON object of each job's terminal status by id. CR, LF or NUL in it is
   * `INVALID_REQUEST`. A tenant-wide stream never ends, so never sends it.
   * @example 'end'
   */
  endEvent?: string;
  /**
   * Tenant-wide: the most events kept waiting for a reader that does not keep up (a job's unread
   * `progress` is replaced by its newer one first); past it, the stream ends and the client
   * reconnects and lists again. @default 10_000
   */
  maxWaitingEvents?: number;
}

/**
 * An open event stream for several jobs, or for every job of a filter: check `status`, then iterate
 * its SSE frames (strings; one string holds several frames when several events were waiting).
 * 200: frames follow; 204: the client already saw every job's terminal event (tell EventSource to
 * stop); 404: a job of `ids` does not exist (`missingJobId`).
 */
export interface JobsStream extends AsyncIterable<string> {
  /** 200, 204 or 404, as above. A tenant-wide stream is always 200. */
  readonly status: 200 | 204 | 404;
  /** The jobs the stream follows, without repeats, in the order given; empty for a tenant-wide stream. */
  readonly jobIds: readonly string[];
  /** With status 404: the first of `ids` that does not exist. */
  readonly missingJobId: string | undefined;
  /** Stop at once: unsubscribes from every job and clears the heartbeat timer. Safe to call twice. */
  close(): void;
  /** True once the stream ended or was closed. */
  readonly closed: boolean;
}

/** Default-serialised frames by event, with `<jobId>:<seq>` ids: streams that share an event object share its frame. */
const defaultFrames = new WeakMap<JobEvent, string>();

const idOf = (event: JobEvent): string => cursorId(event.jobId, event.seq);

class Stream extends FrameStream implements JobsStream {
  readonly jobIds: readonly string[];
  readonly missingJobId: string | undefined;

  constructor(tracker: JobTracker, status: 200 | 204 | 404, jobIds: readonly string[], missingJobId: string | undefined, settings: StreamSettings, source?: FrameSource) {
    super(tracker, status, source, { ...settings, name: 'jobs stream' });
    this.jobIds = jobIds;
    this.missingJobId = missingJobId;
  }
}

function distinctIds(ids: readonly string[]): string[] {
  if (!Array.isArray(ids)) throw new JobwireError('INVALID_REQUEST', '`ids` must be an array of job ids');
  const unique = [...new Set(ids)];
  for (const id of unique) if (typeof id !== 'string') throw new JobwireError('INVALID_REQUEST', '`ids` must be an array of job ids');
  if (unique.length < 1 || unique.length > MAX_STREAM_JOBS) {
    throw new JobwireError('INVALID_REQUEST', `A stream follows 1 to ${MAX_STREAM_JOBS} distinct jobs, got ${unique.length}`);
  }
  return unique;
}

/** Ask `authorizeJob` about every job (at once); the first refusal in `jobs` order wins. */
async function authorizeAll(jobs: readonly JobSnapshot[], authorizeJob: JobVerdict): Promise<void> {
  const verdicts = await Promise.allSettled(jobs.map(async (job) => authorizeJob(job)));
  for (const verdict of verdicts) {
    if (verdict.status === 'rejected') throw verdict.reason;
    if (verdict.value === false) throw new JobwireError('FORBIDDEN', 'Forbidden');
  }
}

/** How a job enters a several-jobs stream: with its events, already seen to its end, or gone. */
type Opened = { kind: 'part'; part: MergedPart } | { kind: 'seen'; status: TerminalStatus } | { kind: 'missing' };

/** Open a job's events after its cursor. A finished job with nothing after the cursor is `seen`. */
async function openPart(tracker: JobTracker, job: JobSnapshot, afterSeq: number): Promise<Opened> {
  const events = tracker.events(job.id, { afterSeq });
  if (!isTerminalStatus(job.status)) return { kind: 'part', part: { jobId: job.id, events } };
  let first: IteratorResult<JobEvent>;
  try {
    first = await events.next();
  } catch (error) {
    if (isJobwireError(error) && error.code === 'JOB_NOT_FOUND') return { kind: 'missing' };
    throw error;
  }
  if (first.done) return { kind: 'seen', status: job.status };
  return { kind: 'part', part: { jobId: job.id, events, first: first.value } };
}

async function openSeveral(tracker: JobTracker, ids: readonly string[], options: JobsStreamOptions, settings: StreamSettings): Promise<JobsStream> {
  const jobIds = distinctIds(ids);
  const cursors = parseJobCursors(options.lastEventId);
  const jobs = await Promise.all(jobIds.map((id) => (isValidJobId(id) ? tracker.get(id) : undefined)));
  const missing = jobIds.find((_, i) => jobs[i] === undefined);
  if (missing !== undefined) return new Stream(tracker, 404, jobIds, missing, settings);
  const found = jobs as JobSnapshot[];
  if (options.authorizeJob) await authorizeAll(found, options.authorizeJob);
  const opened = await Promise.allSettled(found.map((job) => openPart(tracker, job, cursors.get(job.id) ?? 0)));
  const parts: MergedPart[] = [];
  for (const result of opened) if (result.status === 'fulfilled' && result.value.kind === 'part') parts.push(result.value.part);
  const failure = opened.find((result) => result.status === 'rejected');
  const gone = opened.findIndex((result) => result.status === 'fulfilled' && result.value.kind === 'missing');
  if (failure || gone >= 0 || parts.length === 0) {
    for (const part of parts) void part.events.return?.();
    if (failure) throw failure.reason;
    if (gone >= 0) return new Stream(tracker, 404, jobIds, jobIds[gone], settings);
    return new Stream(tracker, 204, jobIds, undefined, settings);
  }
  const seen = new Map<string, TerminalStatus>();
  opened.forEach((result, i) => {
    if (result.status === 'fulfilled' && result.value.kind === 'seen') seen.set(jobIds[i] as string, result.value.status);
  });
  const merged = new MergedEvents(parts);
  const { endEvent } = settings;
  const source: FrameSource = {
    events: merged,
    frame: frameMaker(settings, idOf, defaultFrames),
    ending(event) {
      if (!merged.over || !isTerminalEventType(event.type)) return undefined;
      // Over: with every job's terminal event sent (now or before the reconnect), the end event;
      // a job that went without one (removed, the tracker closed) ends the stream without it.
      if (merged.ended.size + seen.size < jobIds.length) return undefined;
      if (endEvent === undefined) return '';
      const statuses = Object.fromEntries(jobIds.map((id) => [id, merged.ended.get(id) ?? seen.get(id)]));
      return encodeSSE({ event: endEvent, data: JSON.stringify(statuses) });
    },
  };
  return new Stream(tracker, 200, jobIds, undefined, settings, source);
}

function openTenantWide(tracker: JobTracker, query: JobsStreamQuery, options: JobsStreamOptions, settings: StreamSettings): JobsStream {
  if (typeof query === 'object' && query !== null && ('limit' in query || 'cursor' in query)) {
    throw new JobwireError('INVALID_REQUEST', 'An event stream takes no `limit` or `cursor`: it follows every job that matches');
  }
  const { tenantId, workspaceId, plugin, statuses } = checkListQuery(query as ListQuery);
  const maxWaiting = options.maxWaitingEvents ?? DEFAULT_MAX_WAITING_EVENTS;
  if (!Number.isSafeInteger(maxWaiting) || maxWaiting < 1) throw new JobwireError('INVALID_REQUEST', '`maxWaitingEvents` must be a positive integer');
  const live = new LiveStatusEvents(tracker, { tenantId, workspaceId, plugin, statuses }, options.authorizeJob, maxWaiting);
  const source: FrameSource = { events: live, frame: frameMaker(settings, idOf, defaultFrames), ending: () => undefined };
  return new Stream(tracker, 200, [], undefined, settings, source);
}

/**
 * Open one SSE stream for several jobs (`ids`), or for the status events of every job that matches
 * `query` (tenant-wide: a list page's live view). Frames are those of `openJobStream` — `retry:`
 * first, `event: <type>`, `data:` the JSON event (it carries `jobId`), heartbeats, the events
 * already waiting in one string — with `id: <jobId>:<seq>`.
 *
 * Several jobs: each job replays its events after its cursor in `lastEventId`, then goes live; a
 * job sends nothing after its terminal event, and the stream ends once every job has sent its
 * terminal event (then `endEvent`, when set). Tenant-wide: live status events only (never `output`
 * or `gap`), from any process, with no replay; it never ends by itself.
 *
 * @throws JobwireError `INVALID_REQUEST` for `ids` and `query` together, no or more than
 * {@link MAX_STREAM_JOBS} distinct ids, a malformed `lastEventId`, a bad query, delay or
 * `endEvent`; with `ids`, whatever `authorizeJob` throws, and `FORBIDDEN` when it returns `false`.
 * @example
 * ```ts
 * const stream = await openJobsStream(tracker, { ids: ['a', 'b'], lastEventId: request.headers.get('last-event-id'), signal: request.signal });
 * return toSSEResponse(stream);
 * ```
 */
export async function openJobsStream(tracker: JobTracker, options: JobsStreamOptions = {}): Promise<JobsStream> {
  const settings = streamSettings(options);
  if (options.ids !== undefined && options.query !== undefined) throw new JobwireError('INVALID_REQUEST', 'Give `ids` or `query`, not both');
  if (options.ids !== undefined) return openSeveral(tracker, options.ids, options, settings);
  return openTenantWide(tracker, options.query ?? {}, options, settings);
}
