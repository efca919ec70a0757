import { createJobClient, type JobClient } from '../../client/index.js';
import { errorOf } from '../../client/http-error.js';
import { JobwireError, isJobwireError } from '../../errors.js';
import type { JobStats } from '../../tracker/types.js';

/** What the page reads and does: the dashboard's API through `jobwire/client`, and its stats route. */
export interface DashboardApi {
  /** The job routes of the dashboard (`api/jobs`, `api/plugins`). */
  client: JobClient;
  /** `GET api/stats`: counts now and per-plugin durations. */
  stats(signal?: AbortSignal): Promise<JobStats>;
}

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
      // A refusal as `jobwire/client` reads it: the server's own code, else one from the status (kept in `details`).
      if (!response.ok) throw await errorOf(response);
      try {
        return (await response.json()) as JobStats;
      } catch (cause) {
        throw new JobwireError('UNAVAILABLE', 'The dashboard\'s stats were not JSON', { cause });
      }
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
