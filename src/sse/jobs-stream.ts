import { JobwireError, isJobwireError } from '../errors.js';
import { isValidJobId } from '../ids.js';
import { isTerminalEventType, isTerminalStatus, type JobEvent, type JobSnapshot, type TerminalStatus } from '../job.js';
import { isTrackerClosing } from '../tracker/close-hooks.js';
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
   * `INVALID_REQUEST`; so is an empty id). Every one must exist: the first that does not makes the
   * stream a 404 — unless `authorizeJob` refused one before it, in this order, with `JOB_NOT_FOUND`
   * (see there). Not with `query`.
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
   * Whether the caller may see a job. With `ids`: asked about every job that exists, all at once,
   * before anything is sent. A job it refuses by throwing `JOB_NOT_FOUND` counts as missing: the
   * first of `ids` that is missing or refused so decides (a 404 status for a missing one, a
   * rejection with that error for a refused one), so "not yours" reads like "no such job" wherever
   * it stands. Without either, the first other refusal in `ids` order rejects: with what it threw,
   * or `FORBIDDEN` for `false`. Tenant-wide: asked once per job, before its first event; `false` or
   * a throw skips the job silently (the verdict is kept for the stream's life).
   */
  authorizeJob?: (job: JobSnapshot) => boolean | void | Promise<boolean | void>;
  /**
   * With `ids`: once every job has sent its terminal event, one more event of this name, with no
   * `id` and as data a JSON object of each job's terminal status by id. CR, LF or NUL in it is
   * `INVALID_REQUEST`. A tenant-wide stream ends only when stopped, so never sends it.
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
  if (unique.includes('')) throw new JobwireError('INVALID_REQUEST', 'A job id must not be empty');
  if (unique.length < 1 || unique.length > MAX_STREAM_JOBS) {
    throw new JobwireError('INVALID_REQUEST', `A stream follows 1 to ${MAX_STREAM_JOBS} distinct jobs, got ${unique.length}`);
  }
  return unique;
}

const isNotFound = (error: unknown): boolean => isJobwireError(error) && error.code === 'JOB_NOT_FOUND';

/**
 * Ask `authorizeJob` about every job that exists (at once), then judge `jobIds` in order: the first
 * that is missing (resolves its index) or refused with `JOB_NOT_FOUND` (rejects with that) wins,
 * since a job that is not the caller's must read like one that does not exist, wherever it stands;
 * only without either does the first other refusal reject (`false`: `FORBIDDEN`). Resolves -1 when
 * every job exists and is allowed.
 */
async function judge(jobs: readonly (JobSnapshot | undefined)[], authorizeJob: JobVerdict | undefined): Promise<number> {
  const verdicts = authorizeJob
    ? await Promise.allSettled(jobs.map(async (job) => (job === undefined ? undefined : authorizeJob(job))))
    : undefined;
  let refusal: { reason: unknown } | undefined;
  for (const [i, job] of jobs.entries()) {
    if (job === undefined) return i;
    const verdict = verdicts?.[i];
    if (verdict?.status === 'rejected' && isNotFound(verdict.reason)) throw verdict.reason;
    if (refusal) continue;
    if (verdict?.status === 'rejected') refusal = { reason: verdict.reason };
    else if (verdict?.value === false) refusal = { reason: new JobwireError('FORBIDDEN', 'Forbidden') };
  }
  if (refusal) throw refusal.reason;
  return -1;
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
  const missing = await judge(jobs, options.authorizeJob);
  if (missing >= 0) return new Stream(tracker, 404, jobIds, jobIds[missing], settings);
  const found = jobs as JobSnapshot[];
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
  // The tracker's close ends every tenant-wide stream (below), so one opened meanwhile or after is
  // refused, with the CLOSED that reading the jobs of the other streams answers on a closed tracker.
  if (isTrackerClosing(tracker)) throw new JobwireError('CLOSED', 'The tracker is closed');
  const live = new LiveStatusEvents(tracker, { tenantId, workspaceId, plugin, statuses }, options.authorizeJob, maxWaiting);
  // It listens to the tracker itself, not through the hub that ends the other streams on close: the tracker's close ends it.
  const source: FrameSource = { events: live, frame: frameMaker(settings, idOf, defaultFrames), ending: () => undefined, endsWithTracker: true };
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
 * or `gap`), from any process, with no replay; it ends only when closed, aborted, or when the
 * tracker's `close()` starts.
 *
 * @throws JobwireError `INVALID_REQUEST` for `ids` and `query` together, no or more than
 * {@link MAX_STREAM_JOBS} distinct ids, an empty id, a malformed `lastEventId`, a bad query, delay
 * or `endEvent`; with `ids`, whatever `authorizeJob` throws, and `FORBIDDEN` when it returns
 * `false`; tenant-wide, `CLOSED` once the tracker's `close()` has started (with `ids`, reading
 * the jobs answers `CLOSED` once a shared store's tracker has closed).
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
