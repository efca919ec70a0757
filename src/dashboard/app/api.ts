import { createJobClient, type JobClient } from '../../client/index.js';
import { JOBWIRE_ERROR_CODES, JobwireError, isJobwireError, type JobwireErrorCode } from '../../errors.js';
import type { JobStats } from '../../tracker/types.js';

/** What the page reads and does: the dashboard's API through `jobwire/client`, and its stats route. */
export interface DashboardApi {
  /** The job routes of the dashboard (`api/jobs`, `api/plugins`). */
  client: JobClient;
  /** `GET api/stats`: counts now and per-plugin durations. */
  stats(signal?: AbortSignal): Promise<JobStats>;
}

/** A status that may pass by itself (as `jobwire/client` takes it): a 5xx, 408 or 429. */
const isTransient = (status: number): boolean => status >= 500 || status === 408 || status === 429;

/** The API below `apiUrl` (the dashboard's `api/`, resolved against the page). */
export function createDashboardApi(apiUrl: URL): DashboardApi {
  const client = createJobClient({ baseUrl: apiUrl.href.replace(/\/$/, ''), basePath: '/jobs', pluginsPath: '/plugins' });
  const statsUrl = new URL('stats', apiUrl);
  return {
    client,
    async stats(signal) {
      let response: Response;
      try {
        response = await fetch(statsUrl, { headers: { accept: 'application/json' }, ...(signal && { signal }) });
      } catch (error) {
        throw new JobwireError('UNAVAILABLE', 'The dashboard cannot reach its server', { cause: error });
      }
      const body = (await response.json().catch(() => undefined)) as { error?: { code?: unknown; message?: unknown } } | undefined;
      if (response.ok && body) return body as JobStats;
      // As `jobwire/client` reads a refusal: the server's own code, else one from the status (kept in `details`).
      const code = body?.error?.code;
      const message = typeof body?.error?.message === 'string' ? body.error.message : `HTTP ${response.status} from the server`;
      if (JOBWIRE_ERROR_CODES.includes(code as JobwireErrorCode)) throw new JobwireError(code as JobwireErrorCode, message);
      throw new JobwireError(isTransient(response.status) ? 'UNAVAILABLE' : 'INVALID_REQUEST', message, { details: { status: response.status } });
    },
  };
}

/** The server would not let the page do or see something: what to show of it. */
export interface Refusal {
  /** `FORBIDDEN` (the dashboard's `authorize` said no), or `HTTP 401` / `HTTP 403` (a check in front of it). */
  code: string;
  /** What the server said, when it said more than its default word. */
  message: string | undefined;
}

/**
 * The refusal in `error`, if it is one: `FORBIDDEN` from the dashboard's `authorize`, or a 401 or
 * 403 from whatever stands in front of the dashboard (a sign-in check). Asking again will not help
 * until the user has access: the page stops asking, and says so.
 */
export function refusalOf(error: unknown): Refusal | undefined {
  if (!isJobwireError(error)) return undefined;
  const status = (error.details as { status?: unknown } | undefined)?.status;
  if (error.code !== 'FORBIDDEN' && status !== 401 && status !== 403) return undefined;
  const said = error.message.trim();
  const plain = said === '' || said === 'Forbidden' || /^HTTP \d{3}\b/.test(said);
  return { code: error.code === 'FORBIDDEN' ? 'FORBIDDEN' : `HTTP ${String(status)}`, message: plain ? undefined : said };
}

/** A refusal as one line: `Not allowed (FORBIDDEN)`, or with what the server said. */
export function describeRefusal(refusal: Refusal): string {
  return refusal.message === undefined ? `Not allowed (${refusal.code})` : `Not allowed: ${refusal.message} (${refusal.code})`;
}

/** A failure as one line for the page: its message, and its code when it has one. */
export function describeFailure(error: unknown): string {
  const refusal = refusalOf(error);
  if (refusal) return describeRefusal(refusal);
  if (isJobwireError(error)) return `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
