import { createJobClient, type JobClient } from '../../client/index.js';
import { JobwireError, isJobwireError, type JobwireErrorCode } from '../../errors.js';
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
      const body = (await response.json().catch(() => undefined)) as { error?: { code?: string; message?: string } } | undefined;
      if (response.ok && body) return body as JobStats;
      const code = (body?.error?.code ?? 'UNAVAILABLE') as JobwireErrorCode;
      throw new JobwireError(code, body?.error?.message ?? `The server answered ${response.status}`);
    },
  };
}

/** A failure as one line for the page: its message, and its code when it has one. */
export function describeFailure(error: unknown): string {
  if (isJobwireError(error)) return error.code === 'FORBIDDEN' ? 'Not allowed (FORBIDDEN)' : `${error.message} (${error.code})`;
  return error instanceof Error ? error.message : String(error);
}
