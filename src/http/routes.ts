import { JobwireError, isJobwireError, messageOf } from '../errors.js';
import { isValidJobId } from '../ids.js';
import { isTerminalStatus, type JobEvent, type JobSnapshot } from '../job.js';
import type { Logger } from '../logger.js';
import { openJobStream } from '../sse/job-stream.js';
import { toSSEResponse } from '../sse/response.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { SUBMIT_OPTION_KEYS } from '../tracker/options.js';
import type { ListQuery, SubmitOptions } from '../tracker/types.js';
import { DEFAULT_MAX_BODY_BYTES, readJsonBody } from './body.js';
import { errorResponse, json } from './error-response.js';

/** What a route is about to do, for {@link JobRoutesOptions.authorize}. */
export type JobAction = 'submit' | 'get' | 'list' | 'cancel' | 'remove' | 'events' | 'plugins';

/** What `authorize` is told about a request. */
export interface AuthorizeContext {
  request: Request;
  action: JobAction;
  /** The job concerned (get, cancel, remove, events). */
  job?: JobSnapshot;
  /** The parsed body (submit). */
  body?: Record<string, unknown>;
  /** The parsed query (list). */
  query?: ListQuery;
}

/** Options for {@link createJobRoutes}. */
export interface JobRoutesOptions {
  /** Where the job routes live. @default '/jobs' */
  basePath?: string;
  /** Where the plugin list lives. @default '/plugins' */
  pluginsPath?: string;
  /**
   * Decide whether a request may go on: return false or throw to refuse with 403 `FORBIDDEN`
   * (a thrown `JobwireError` keeps its own code). This is how a host keeps tenants apart.
   */
  authorize?: (context: AuthorizeContext) => boolean | void | Promise<boolean | void>;
  /** Largest accepted request body, in bytes. @default 1_048_576 (1 MiB) */
  maxBodyBytes?: number;
  /** Passed to the SSE route's streams. */
  sse?: { heartbeatMs?: number; retryMs?: number; serialize?: (event: JobEvent) => string };
  /** Where unexpected errors (500s) are logged. */
  logger?: Logger;
}

/** A fetch-style handler: a `Response`, or `undefined` when the request is not for these routes. */
export type JobRoutesHandler = (request: Request) => Promise<Response | undefined>;

function normalizePath(path: string, name: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new JobwireError('INVALID_CONFIG', `\`${name}\` must start with "/"`);
  return path.length > 1 ? path.replace(/\/+$/, '') : '';
}

function parseListQuery(params: URLSearchParams): ListQuery {
  const query: ListQuery = {};
  for (const key of params.keys()) {
    if (!['tenantId', 'workspaceId', 'status', 'plugin', 'limit', 'cursor'].includes(key)) throw new JobwireError('INVALID_REQUEST', `Unknown query parameter \`${key}\``);
  }
  const single = (key: 'tenantId' | 'workspaceId' | 'plugin' | 'cursor'): void => {
    const values = params.getAll(key);
    if (values.length > 1) throw new JobwireError('INVALID_REQUEST', `\`${key}\` given more than once`);
    if (values[0] !== undefined) query[key] = values[0];
  };
  single('tenantId');
  single('workspaceId');
  single('plugin');
  single('cursor');
  const statuses = params.getAll('status').flatMap((value) => value.split(',')).filter(Boolean);
  if (statuses.length > 0) query.status = statuses as ListQuery['status'] & string[];
  const limit = params.get('limit');
  if (limit !== null) {
    if (!/^\d{1,7}$/.test(limit)) throw new JobwireError('INVALID_REQUEST', '`limit` must be a positive integer');
    query.limit = Number(limit);
  }
  return query;
}

/**
 * The REST routes of the design contract as one fetch-style handler. Mount it anywhere that speaks
 * `Request`/`Response` (Hono, Bun, Deno, Next), or through {@link toNodeHandler} in node:http,
 * Express and Fastify.
 *
 * | route | answer |
 * |---|---|
 * | `POST /jobs` `{ plugin, input, …options }` | 202 snapshot (`Location` header) |
 * | `GET /jobs/:id` | 200 snapshot |
 * | `POST /jobs/:id/cancel` | cancel a live job → 200 snapshot; a finished job → 200, unchanged (never deleted) |
 * | `DELETE /jobs/:id` | live: cancel → 200 snapshot; finished: delete → 204 |
 * | `GET /jobs?tenantId&workspaceId&status&plugin&limit&cursor` | 200 `{ jobs, nextCursor? }` |
 * | `GET /jobs/:id/events` | SSE (honours `Last-Event-ID`) |
 * | `GET /plugins` | 200 `{ plugins: PluginMeta[] }` |
 *
 * Errors are `{ error: { code, message, details? } }` with 400, 403, 404, 409, 413, 422, 429 or 503.
 * @example
 * ```ts
 * const routes = createJobRoutes(tracker, { authorize: ({ request }) => request.headers.get('x-api-key') === key });
 * app.all('*', async (c, next) => (await routes(c.req.raw)) ?? next());
 * ```
 */
export function createJobRoutes(tracker: JobTracker, options: JobRoutesOptions = {}): JobRoutesHandler {
  const base = normalizePath(options.basePath ?? '/jobs', 'basePath');
  const pluginsPath = normalizePath(options.pluginsPath ?? '/plugins', 'pluginsPath') || '/';
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1) throw new JobwireError('INVALID_CONFIG', '`maxBodyBytes` must be a positive integer');
  const { authorize, logger } = options;

  async function allow(context: AuthorizeContext): Promise<void> {
    if (!authorize) return;
    let verdict: boolean | void;
    try {
      verdict = await authorize(context);
    } catch (error) {
      if (isJobwireError(error)) throw error;
      throw new JobwireError('FORBIDDEN', 'Forbidden', { cause: error });
    }
    if (verdict === false) throw new JobwireError('FORBIDDEN', 'Forbidden');
  }

  async function findJob(id: string): Promise<JobSnapshot> {
    const job = isValidJobId(id) ? await tracker.get(id) : undefined;
    if (!job) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
    return job;
  }

  async function submit(request: Request): Promise<Response> {
    const body = await readJsonBody(request, maxBodyBytes);
    await allow({ request, action: 'submit', body });
    const { plugin, input, ...rest } = body;
    if (typeof plugin !== 'string' || plugin === '') throw new JobwireError('INVALID_REQUEST', '`plugin` must be a non-empty string');
    for (const key of Object.keys(rest)) if (!SUBMIT_OPTION_KEYS.has(key)) throw new JobwireError('INVALID_REQUEST', `Unknown field \`${key}\``);
    const job = await tracker.submit(plugin, input, rest as SubmitOptions);
    return json(job, 202, { Location: `${base}/${job.id}` });
  }

  async function route(request: Request, url: URL): Promise<Response | undefined> {
    const { pathname } = url;
    const method = request.method.toUpperCase();

    if (pathname === pluginsPath) {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET');
      await allow({ request, action: 'plugins' });
      const category = url.searchParams.get('category');
      return json({ plugins: tracker.plugins.list(category === null ? {} : { category }) });
    }

    if (pathname === base || (base === '' && pathname === '/')) {
      if (method === 'POST') return submit(request);
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed('GET, POST');
      const query = parseListQuery(url.searchParams);
      await allow({ request, action: 'list', query });
      return json(await tracker.list(query));
    }

    if (!pathname.startsWith(`${base}/`)) return undefined;
    const rest = pathname.slice(base.length + 1).split('/');
    if (rest.length > 2 || (rest.length === 2 && rest[1] !== 'events' && rest[1] !== 'cancel')) return undefined;
    let id: string;
    try {
      id = decodeURIComponent(rest[0] ?? '');
    } catch {
      throw new JobwireError('INVALID_REQUEST', 'Malformed job id');
    }

    if (rest[1] === 'cancel') {
      if (method !== 'POST') return methodNotAllowed('POST');
      const job = await findJob(id);
      await allow({ request, action: 'cancel', job });
      if (isTerminalStatus(job.status)) return json(job); // too late to cancel: the job stays as it ended
      const reason = url.searchParams.get('reason');
      return json(await tracker.cancel(id, reason === null ? 'Cancelled by request' : reason.slice(0, 500)));
    }

    if (rest.length === 2) {
      if (method !== 'GET') return methodNotAllowed('GET');
      const job = await findJob(id);
      await allow({ request, action: 'events', job });
      const stream = await openJobStream(tracker, id, {
        ...options.sse,
        lastEventId: request.headers.get('last-event-id') ?? url.searchParams.get('lastEventId'),
        signal: request.signal,
      });
      return toSSEResponse(stream);
    }

    if (method === 'GET' || method === 'HEAD') {
      const job = await findJob(id);
      await allow({ request, action: 'get', job });
      return json(job);
    }
    if (method === 'DELETE') {
      const job = await findJob(id);
      if (isTerminalStatus(job.status)) {
        await allow({ request, action: 'remove', job });
        await tracker.remove(id);
        return new Response(null, { status: 204 });
      }
      await allow({ request, action: 'cancel', job });
      const reason = url.searchParams.get('reason');
      return json(await tracker.cancel(id, reason === null ? 'Cancelled by request' : reason.slice(0, 500)));
    }
    return methodNotAllowed('GET, DELETE');
  }

  return async (request: Request): Promise<Response | undefined> => {
    let url: URL;
    try {
      url = new URL(request.url);
    } catch {
      return undefined;
    }
    try {
      return await route(request, url);
    } catch (error) {
      if (!isJobwireError(error)) logger?.error({ err: error, url: url.pathname }, `jobwire: route failed: ${messageOf(error)}`);
      return errorResponse(error);
    }
  };
}

function methodNotAllowed(allow: string): Response {
  return json({ error: { code: 'INVALID_REQUEST', message: `Method not allowed; use ${allow}` } }, 405, { Allow: allow });
}
