import { JobwireError, isJobwireError, messageOf } from '../errors.js';
import { isValidJobId } from '../ids.js';
import { isTerminalStatus, type JobSnapshot } from '../job.js';
import type { Logger } from '../logger.js';
import { openJobStream, type JobStreamOptions } from '../sse/job-stream.js';
import { openJobsStream } from '../sse/jobs-stream.js';
import { toSSEResponse, unknownJobMessage } from '../sse/response.js';
import type { StoredResult } from '../storage/types.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { SUBMIT_OPTION_KEYS } from '../tracker/options.js';
import type { JobOutput, ListQuery, SubmitOptions } from '../tracker/types.js';
import { storedOutputOf } from '../output/job-output.js';
import type { ScheduleInfo } from '../schedule/types.js';
import { DEFAULT_MAX_BODY_BYTES } from './body.js';
import { json } from './error-response.js';
import { fetchHandler } from './fetch-handler.js';
import { readSubmitBody } from './form-body.js';
import { registerOwnedPaths } from './owned-paths.js';
import { parseJobsEventsIds, parseJobsEventsQuery, parseListQuery, parseResultQuery } from './query.js';
import { storedResultOf } from './results.js';

/**
 * What a route is about to do, for {@link JobRoutesOptions.authorize}. `'stats'` is the dashboard's
 * stats (`GET {basePath}/api/stats` of `jobwire/dashboard`).
 */
export type JobAction =
  | 'submit'
  | 'get'
  | 'list'
  | 'cancel'
  | 'retry'
  | 'remove'
  | 'events'
  | 'output'
  | 'result'
  | 'results'
  | 'plugins'
  | 'schedules'
  /** The dashboard's stats. */
  | 'stats';

/** What `authorize` is told about a request. */
export interface AuthorizeContext {
  request: Request;
  action: JobAction;
  /**
   * The job concerned (get, cancel, remove, events, output; retry: the failed or cancelled job to
   * re-run; result while the job lives). For `GET /jobs/events`: every job of `?id=…` that exists
   * (the calls run at once), or each job of a tenant-wide stream before its first event.
   */
  job?: JobSnapshot;
  /**
   * The result about to be sent (result): from the live job, or from the storage when the job is
   * gone — check its `tenantId` then, since there is no `job`.
   */
  result?: StoredResult;
  /** The parsed body (submit), also of a form: `{ plugin, input, …options }`. */
  body?: Record<string, unknown>;
  /**
   * The parsed query (list; results, where only `tenantId`, `plugin`, `limit`, `cursor` occur;
   * events, for a tenant-wide stream, where no `limit` or `cursor` occurs).
   */
  query?: ListQuery;
}

/** Options of the SSE routes' streams (see `openJobStream` and `openJobsStream`). */
export type JobRoutesSSEOptions = Pick<JobStreamOptions, 'heartbeatMs' | 'retryMs' | 'serialize' | 'eventName' | 'endEvent'>;

/** Options for {@link createJobRoutes}. */
export interface JobRoutesOptions {
  /** Where the job routes live. @default '/jobs' */
  basePath?: string;
  /** Where the plugin list lives. @default '/plugins' */
  pluginsPath?: string;
  /** Where the stored results are listed (only when the tracker has a `storage`). @default '/results' */
  resultsPath?: string;
  /** Where the schedules are listed (read-only). @default '/schedules' */
  schedulesPath?: string;
  /**
   * Decide whether a request may go on: return false or throw to refuse with 403 `FORBIDDEN`
   * (a thrown `JobwireError` keeps its code; a `JOB_NOT_FOUND` about the requested job is answered
   * exactly like a job that does not exist). This is how a host keeps tenants apart.
   */
  authorize?: (context: AuthorizeContext) => boolean | void | Promise<boolean | void>;
  /** Largest accepted request body, in bytes (JSON or form). @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /** Passed to the SSE routes' streams. */
  sse?: JobRoutesSSEOptions;
  /** Where unexpected errors (500s) are logged. */
  logger?: Logger;
}

/** A fetch-style handler: a `Response`, or `undefined` when the request is not for these routes. */
export type JobRoutesHandler = (request: Request) => Promise<Response | undefined>;

/** Which route a path is. */
type Match =
  | { kind: 'plugins' }
  | { kind: 'results' }
  | { kind: 'schedules' }
  | { kind: 'jobs' }
  | { kind: 'events' }
  | { kind: 'job'; rawId: string; sub: JobSubroute | undefined };

/** The routes below one job: `/jobs/:id/<sub>`. */
type JobSubroute = 'events' | 'output' | 'cancel' | 'retry' | 'result';

const JOB_SUBROUTES = new Set<string>(['events', 'output', 'cancel', 'retry', 'result']);

function normalizePath(path: string, name: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new JobwireError('INVALID_CONFIG', `\`${name}\` must start with "/"`);
  return path.length > 1 ? path.replace(/\/+$/, '') : '';
}

function unknownJob(id: string): JobwireError {
  return new JobwireError('JOB_NOT_FOUND', unknownJobMessage(id));
}

/** The "no such job" of a request about several jobs: it names the job in `details` too (as a 404 of `openJobsStream` does). */
function unknownJobOfMany(id: string): JobwireError {
  return new JobwireError('JOB_NOT_FOUND', unknownJobMessage(id), { details: { jobId: id } });
}

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: 'INVALID_REQUEST', message: `Method not allowed; use ${allow}` } }, 405, { Allow: allow });
}

function cancelReason(url: URL): string {
  const reason = url.searchParams.get('reason');
  return reason === null ? 'Cancelled by request' : reason.slice(0, 500);
}

/**
 * The REST routes of the design contract as one fetch-style handler. Mount it anywhere that speaks
 * `Request`/`Response` (Hono, Bun, Deno, Next), or through {@link toNodeHandler} in node:http,
 * Express and Fastify.
 *
 * | route | answer |
 * |---|---|
 * | `POST /jobs` `{ plugin, input, …options }` (JSON or form data) | 202 snapshot (`Location` header) |
 * | `GET /jobs/:id` | 200 snapshot |
 * | `POST /jobs/:id/cancel` | cancel a live job → 200 snapshot; a finished job → 200, unchanged (never deleted) |
 * | `POST /jobs/:id/retry` | re-run a `failed` or `cancelled` job as a new job → 202 its snapshot (`Location` header); another status → 400 |
 * | `DELETE /jobs/:id` | live: cancel → 200 snapshot; finished: delete → 204 |
 * | `GET /jobs?tenantId&workspaceId&status&plugin&limit&cursor` | 200 `{ jobs, nextCursor? }` |
 * | `GET /jobs/:id/events` | SSE (honours `Last-Event-ID`): status, `output` and `gap` events |
 * | `GET /jobs/events?id=a&id=b…` | SSE of 1–100 jobs, ids `<jobId>:<seq>`; `Last-Event-ID` `a:12,b:3` resumes each; ends after every job's terminal event |
 * | `GET /jobs/events?tenantId&workspaceId&status&plugin` | SSE of the live status events of every matching job (no replay; ends only when the tracker closes) |
 * | `GET /jobs/:id/output` | 200 `JobOutput` `{ chunks, gap, lastSeq }`: the output the job still retains |
 * | `GET /jobs/:id/result` | 200 `StoredResult`, from the live job or the storage |
 * | `GET /results?tenantId&plugin&limit&cursor` | 200 `{ results, nextCursor? }` (with a storage only) |
 * | `GET /plugins` | 200 `{ plugins: PluginMeta[] }` |
 * | `GET /schedules` | 200 `{ schedules: ScheduleInfo[] }` (empty when the backend has no schedules) |
 *
 * Errors are `{ error: { code, message, details? } }` with 400, 403, 404, 405, 409, 413, 422, 429, 500 or 503.
 * @example
 * ```ts
 * const routes = createJobRoutes(tracker, { authorize: ({ request }) => request.headers.get('x-api-key') === key });
 * app.all('*', async (c, next) => (await routes(c.req.raw)) ?? next());
 * ```
 */
export function createJobRoutes(tracker: JobTracker, options: JobRoutesOptions = {}): JobRoutesHandler {
  const base = normalizePath(options.basePath ?? '/jobs', 'basePath');
  const pluginsPath = normalizePath(options.pluginsPath ?? '/plugins', 'pluginsPath') || '/';
  const resultsPath = normalizePath(options.resultsPath ?? '/results', 'resultsPath') || '/';
  const schedulesPath = normalizePath(options.schedulesPath ?? '/schedules', 'schedulesPath') || '/';
  const jobsPath = base || '/';
  if (new Set([jobsPath, pluginsPath, resultsPath, schedulesPath]).size < 4) {
    throw new JobwireError('INVALID_CONFIG', '`basePath`, `pluginsPath`, `resultsPath` and `schedulesPath` must differ');
  }
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new JobwireError('INVALID_CONFIG', '`maxBodyBytes` must be a positive integer');
  const { authorize, logger } = options;
  const { storage } = tracker;

  /** The route of a path, or undefined when it is not ours. A collection path may end in one `/`. */
  function match(pathname: string): Match | undefined {
    const path = pathname.length > 1 && pathname.endsWith('/') ? pathname.slice(0, -1) : pathname;
    if (path === pluginsPath) return { kind: 'plugins' };
    if (path === resultsPath) return storage ? { kind: 'results' } : undefined;
    if (path === schedulesPath) return { kind: 'schedules' };
    if (path === jobsPath) return { kind: 'jobs' };
    // Reserved: a generated job id is 22 characters, so no job is called `events`.
    if (pathname === `${base}/events`) return { kind: 'events' };
    if (!pathname.startsWith(`${base}/`)) return undefined;
    const rest = pathname.slice(base.length + 1).split('/');
    const [rawId = '', sub] = rest;
    if (rest.length > 2 || (sub !== undefined && !JOB_SUBROUTES.has(sub))) return undefined;
    return { kind: 'job', rawId, sub: sub as JobSubroute | undefined };
  }

  /**
   * Ask `authorize`. When it concerns job `jobId` and throws `JOB_NOT_FOUND`, answer with the very
   * error a job that does not exist gets: "not yours" must not read differently from "no such job".
   */
  async function allow(context: AuthorizeContext, jobId?: string): Promise<void> {
    if (!authorize) return;
    let verdict: boolean | void;
    try {
      verdict = await authorize(context);
    } catch (error) {
      if (isJobwireError(error)) throw jobId !== undefined && error.code === 'JOB_NOT_FOUND' ? unknownJob(jobId) : error;
      throw new JobwireError('FORBIDDEN', 'Forbidden', { cause: error });
    }
    if (verdict === false) throw new JobwireError('FORBIDDEN', 'Forbidden');
  }

  async function findJob(id: string): Promise<JobSnapshot> {
    const job = isValidJobId(id) ? await tracker.get(id) : undefined;
    if (!job) throw unknownJob(id);
    return job;
  }

  async function submit(request: Request): Promise<Response> {
    const body = await readSubmitBody(request, maxBodyBytes, (plugin) => tracker.plugins.getMeta(plugin)?.inputSchema, logger);
    await allow({ request, action: 'submit', body });
    const { plugin, input, ...rest } = body;
    if (typeof plugin !== 'string' || plugin === '') throw new JobwireError('INVALID_REQUEST', '`plugin` must be a non-empty string');
    for (const key of Object.keys(rest)) if (!SUBMIT_OPTION_KEYS.has(key)) throw new JobwireError('INVALID_REQUEST', `Unknown field \`${key}\``);
    const job = await tracker.submit(plugin, input, rest as SubmitOptions);
    return json(job, 202, { Location: `${base}/${job.id}` });
  }

  /** A live completed job's result as its storage keeps it: with the output it wrote (none when it went meanwhile). */
  async function liveResult(job: JobSnapshot): Promise<StoredResult> {
    let output: JobOutput | undefined;
    try {
      output = await tracker.output(job.id);
    } catch (error) {
      if (!isJobwireError(error) || error.code !== 'JOB_NOT_FOUND') throw error;
    }
    return storedResultOf(tracker.plugins, job, output && storedOutputOf(output));
  }

  async function result(request: Request, id: string): Promise<Response> {
    const valid = isValidJobId(id);
    const job = valid ? await tracker.get(id) : undefined;
    let stored = job?.status === 'completed' ? await liveResult(job) : undefined;
    if (!stored && storage && valid) stored = await storage.get(id);
    if (!job && !stored) throw unknownJob(id);
    await allow({ request, action: 'result', ...(job && { job }), ...(stored && { result: stored }) }, id);
    if (stored) return json(stored);
    const status = (job as JobSnapshot).status;
    throw new JobwireError('RESULT_NOT_FOUND', `Job ${id} is ${status} and has no result`, { details: { status } });
  }

  async function events(request: Request, url: URL, id: string): Promise<Response> {
    const job = await findJob(id);
    await allow({ request, action: 'events', job }, id);
    const stream = await openJobStream(tracker, id, {
      ...options.sse,
      job, // read once: the stream starts from the snapshot authorize saw
      lastEventId: request.headers.get('last-event-id') ?? url.searchParams.get('lastEventId'),
      signal: request.signal,
    });
    return toSSEResponse(stream);
  }

  /** `GET /jobs/events`: several jobs (`?id=…`), or every job of a tenant (the filters of `GET /jobs`). */
  async function jobsEvents(request: Request, url: URL): Promise<Response> {
    const params = url.searchParams;
    if (params.has('id')) {
      const { ids, lastEventId } = parseJobsEventsIds(params);
      const stream = await openJobsStream(tracker, {
        ...options.sse,
        ids,
        lastEventId: request.headers.get('last-event-id') ?? lastEventId,
        signal: request.signal,
        ...(authorize && {
          // A job that is not the caller's must read exactly like one that does not exist.
          authorizeJob: async (job: JobSnapshot) => {
            try {
              await allow({ request, action: 'events', job }, job.id);
            } catch (error) {
              throw isJobwireError(error) && error.code === 'JOB_NOT_FOUND' ? unknownJobOfMany(job.id) : error;
            }
          },
        }),
      });
      return toSSEResponse(stream);
    }
    const query = parseJobsEventsQuery(params);
    await allow({ request, action: 'events', query });
    const stream = await openJobsStream(tracker, {
      ...options.sse,
      query,
      signal: request.signal,
      // Each job is asked about before its first event; a refusal (false or a throw) skips it.
      ...(authorize && { authorizeJob: (job: JobSnapshot) => authorize({ request, action: 'events', job }) }),
    });
    return toSSEResponse(stream);
  }

  /** The schedules; a backend without schedules has none (the tracker refuses with `INVALID_CONFIG`). */
  async function schedules(): Promise<ScheduleInfo[]> {
    try {
      return await tracker.schedules();
    } catch (error) {
      if (isJobwireError(error) && error.code === 'INVALID_CONFIG') return [];
      throw error;
    }
  }

  async function jobRoute(request: Request, url: URL, method: string, rawId: string, sub: JobSubroute | undefined): Promise<Response> {
    let id: string;
    try {
      id = decodeURIComponent(rawId);
    } catch {
      throw new JobwireError('INVALID_REQUEST', 'Malformed job id');
    }
    const reading = method === 'GET' || method === 'HEAD';

    if (sub === 'cancel') {
      if (method !== 'POST') return methodNotAllowed('POST');
      const job = await findJob(id);
      await allow({ request, action: 'cancel', job }, id);
      if (isTerminalStatus(job.status)) return json(job); // too late to cancel: the job stays as it ended
      return json(await tracker.cancel(id, cancelReason(url)));
    }
    if (sub === 'retry') {
      if (method !== 'POST') return methodNotAllowed('POST');
      const job = await findJob(id);
      await allow({ request, action: 'retry', job }, id);
      const rerun = await tracker.retry(id); // INVALID_REQUEST (400) unless the job failed or was cancelled
      return json(rerun, 202, { Location: `${base}/${rerun.id}` });
    }
    if (sub === 'events') {
      if (method !== 'GET') return methodNotAllowed('GET');
      return events(request, url, id);
    }
    if (sub === 'output') {
      if (!reading) return methodNotAllowed('GET');
      const job = await findJob(id);
      await allow({ request, action: 'output', job }, id);
      return json(await tracker.output(id)); // JOB_NOT_FOUND (404) when the job went meanwhile
    }
    if (sub === 'result') {
      if (!reading) return methodNotAllowed('GET');
      return result(request, id);
    }
    if (reading) {
      const job = await findJob(id);
      await allow({ request, action: 'get', job }, id);
      return json(job);
    }
    if (method === 'DELETE') {
      const job = await findJob(id);
      if (isTerminalStatus(job.status)) {
        await allow({ request, action: 'remove', job }, id);
        await tracker.remove(id);
        return new Response(null, { status: 204 });
      }
      await allow({ request, action: 'cancel', job }, id);
      return json(await tracker.cancel(id, cancelReason(url)));
    }
    return methodNotAllowed('GET, DELETE');
  }

  async function route(request: Request, url: URL): Promise<Response | undefined> {
    const matched = match(url.pathname);
    if (!matched) return undefined;
    const method = request.method.toUpperCase();
    const reading = method === 'GET' || method === 'HEAD';
    switch (matched.kind) {
      case 'plugins': {
        if (!reading) return methodNotAllowed('GET');
        await allow({ request, action: 'plugins' });
        const category = url.searchParams.get('category');
        return json({ plugins: tracker.plugins.list(category === null ? {} : { category }) });
      }
      case 'results': {
        if (!reading) return methodNotAllowed('GET');
        const query = parseResultQuery(url.searchParams);
        await allow({ request, action: 'results', query });
        return json(await (storage as NonNullable<typeof storage>).list(query));
      }
      case 'schedules': {
        if (!reading) return methodNotAllowed('GET');
        await allow({ request, action: 'schedules' });
        return json({ schedules: await schedules() });
      }
      case 'jobs': {
        if (method === 'POST') return submit(request);
        if (!reading) return methodNotAllowed('GET, POST');
        const query = parseListQuery(url.searchParams);
        await allow({ request, action: 'list', query });
        return json(await tracker.list(query));
      }
      case 'events':
        if (method !== 'GET') return methodNotAllowed('GET');
        return jobsEvents(request, url);
      case 'job':
        return jobRoute(request, url, method, matched.rawId, matched.sub);
    }
  }

  const handler: JobRoutesHandler = fetchHandler(route, (error, url) => {
    if (!isJobwireError(error)) logger?.error({ err: error, url: url.pathname }, `jobwire: route failed: ${messageOf(error)}`);
  });
  registerOwnedPaths(handler, (pathname) => match(pathname) !== undefined);
  return handler;
}
