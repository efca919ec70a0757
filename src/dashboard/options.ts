import { JobwireError } from '../errors.js';
import type { JobRoutesOptions, JobRoutesSSEOptions } from '../http/routes.js';
import type { Logger } from '../logger.js';

/** Options for {@link createDashboard}. */
export interface DashboardOptions {
  /**
   * Where the dashboard lives: the page at `{basePath}` and `{basePath}/`, its script and styles
   * under `{basePath}/assets/`, its API under `{basePath}/api/`. `'/'` mounts it at the root.
   * @default '/jobwire'
   */
  basePath?: string;
  /**
   * Decide whether an API call of the page may go on, as `createJobRoutes`' `authorize`: return
   * false or throw to refuse with 403. The page calls `list`, `get`, `events`, `output`, `result`,
   * `cancel`, `retry`, `plugins` and `stats`. The page itself and its script carry no data and are
   * served to anyone who reaches them.
   * @example
   * ```ts
   * createDashboard(tracker, { authorize: ({ request }) => request.headers.get('cookie')?.includes('role=ops') === true });
   * ```
   */
  authorize?: JobRoutesOptions['authorize'];
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
  authorize: JobRoutesOptions['authorize'];
  sse: JobRoutesSSEOptions | undefined;
  logger: Logger | undefined;
}

const MAX_TITLE_LENGTH = 100;
/** Path characters that need no escaping anywhere a path is written: in a URL, an attribute, a header. */
const SAFE_PATH = /^(?:\/[\w.~!$&'()*+,;=:@%-]*)+$/;

function invalid(message: string): JobwireError {
  return new JobwireError('INVALID_CONFIG', message);
}

/** Check the options of `createDashboard` and fill in the defaults. @throws `INVALID_CONFIG` */
export function dashboardSettings(options: DashboardOptions): DashboardSettings {
  if (typeof options !== 'object' || options === null) throw invalid('createDashboard options must be an object');
  const { basePath = '/jobwire', authorize, title = 'jobwire', sse, logger } = options;
  if (typeof basePath !== 'string' || !basePath.startsWith('/')) throw invalid(`\`basePath\` must start with "/", got ${JSON.stringify(basePath)}`);
  const base = basePath.replace(/\/+$/, '');
  if (base !== '' && (!SAFE_PATH.test(base) || base.includes('//') || /(?:^|\/)\.\.?(?:\/|$)/.test(base))) {
    throw invalid(`\`basePath\` must be a plain path such as "/jobwire", got ${JSON.stringify(basePath)}`);
  }
  if (authorize !== undefined && typeof authorize !== 'function') throw invalid('`authorize` must be a function');
  if (typeof title !== 'string' || title.trim() === '' || title.length > MAX_TITLE_LENGTH) {
    throw invalid(`\`title\` must be a non-empty string of at most ${MAX_TITLE_LENGTH} characters`);
  }
  if (sse !== undefined && (typeof sse !== 'object' || sse === null)) throw invalid('`sse` must be an object');
  return { base, title: title.trim(), authorize, sse, logger };
}
