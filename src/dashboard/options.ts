import { JobwireError } from '../errors.js';
import type { JobRoutesOptions, JobRoutesSSEOptions } from '../http/routes.js';
import type { Logger } from '../logger.js';

/** Decides whether a call of the dashboard's API may go on: true (or nothing) to go on, false or a throw to refuse. */
export type DashboardAuthorize = NonNullable<JobRoutesOptions['authorize']>;

/** Options for {@link createDashboard}. */
export interface DashboardOptions {
  /**
   * Where the dashboard lives: the page at `{basePath}` and `{basePath}/`, its script and styles
   * under `{basePath}/assets/`, its API under `{basePath}/api/`. `'/'` mounts it at the root.
   * @default '/jobwire'
   */
  basePath?: string;
  /**
   * Who may see and act: asked before every call of the dashboard's API, as `createJobRoutes`'
   * `authorize` is (return false or throw to refuse with 403; a thrown `JOB_NOT_FOUND` about a job
   * answers like a job that does not exist). Required: the API shows every job, its input and
   * result, and cancels and re-runs them. To let everyone in knowingly (a tool that only listens
   * on localhost), pass `authorize: () => true`.
   *
   * The page asks these actions: `list` (with the `query` of its filters), `get` (with the `job`),
   * `events` (a job's stream and each job of a stream of several: with the `job`; the tenant-wide
   * stream: once with its `query`, then with each `job` before its first event), `cancel` and
   * `retry` (with the `job`), `plugins` and `stats` (neither job nor query). The page calls from
   * its own origin with `fetch` and no headers of its own: the browser sends the site's cookies,
   * so a session cookie is what tells who is asking. The page itself and its assets carry no data
   * and are served to anyone who reaches them.
   * @example
   * ```ts
   * createDashboard(tracker, { authorize: ({ request }) => isStaffSession(request.headers.get('cookie')) });
   * ```
   */
  authorize: DashboardAuthorize;
  /** The page's title, shown in its header and the browser tab. @default 'jobwire' */
  title?: string;
  /** Passed to the API's SSE streams (heartbeat, retry). */
  sse?: Pick<JobRoutesSSEOptions, 'heartbeatMs' | 'retryMs'>;
  /** Where unexpected errors (500s) are logged. */
  logger?: Logger;
}

/** {@link DashboardOptions} checked, with defaults applied. */
export interface DashboardSettings {
  /** `basePath` without a trailing `/` (`''` at the root). */
  base: string;
  title: string;
  authorize: DashboardAuthorize;
  sse: JobRoutesSSEOptions | undefined;
  logger: Logger | undefined;
}

const MAX_TITLE_LENGTH = 100;
/** Path characters that need no escaping anywhere a path is written: in a URL, an attribute, a header. */
const SAFE_PATH = /^(?:\/[\w.~!$&'()*+,;=:@%-]*)+$/;

function invalid(message: string): JobwireError {
  return new JobwireError('INVALID_CONFIG', message);
}

/** How to fill in `authorize`, for the error of a missing or bad one. */
const AUTHORIZE_HOW =
  'Decide who may, e.g. `authorize: ({ request }) => isStaff(request)`; to let everyone in knowingly (a tool that only listens on localhost), pass `authorize: () => true`';
const AUTHORIZE_MISSING = `createDashboard needs an \`authorize\` function: its API shows every job with its input and result, and cancels and re-runs them. ${AUTHORIZE_HOW}`;

/** Check the options of `createDashboard` and fill in the defaults. @throws `INVALID_CONFIG` */
export function dashboardSettings(options: DashboardOptions | undefined): DashboardSettings {
  if (options === undefined) throw invalid(AUTHORIZE_MISSING);
  if (typeof options !== 'object' || options === null) throw invalid('createDashboard options must be an object');
  const { basePath = '/jobwire', authorize, title = 'jobwire', sse, logger } = options;
  if (authorize === undefined) throw invalid(AUTHORIZE_MISSING);
  if (typeof authorize !== 'function') throw invalid(`\`authorize\` must be a function, got ${typeof authorize}. ${AUTHORIZE_HOW}`);
  if (typeof basePath !== 'string' || !basePath.startsWith('/')) throw invalid(`\`basePath\` must start with "/", got ${JSON.stringify(basePath)}`);
  const base = basePath.replace(/\/+$/, '');
  if (base !== '' && (!SAFE_PATH.test(base) || base.includes('//') || /(?:^|\/)\.\.?(?:\/|$)/.test(base))) {
    throw invalid(`\`basePath\` must be a plain path such as "/jobwire", got ${JSON.stringify(basePath)}`);
  }
  if (typeof title !== 'string' || title.trim() === '' || title.length > MAX_TITLE_LENGTH) {
    throw invalid(`\`title\` must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`);
  }
  if (sse !== undefined && (typeof sse !== 'object' || sse === null)) throw invalid('`sse` must be an object');
  return { base, title: title.trim(), authorize, sse, logger };
}
