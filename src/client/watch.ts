import { isStatusEvent, isTerminalEventType, type JobStatusEvent } from '../job.js';
import type { WatchQuery } from './options.js';
import type { Subscription } from './subscribe.js';
import type { Transport } from './transport.js';

/**
 * Watching every job a query matches on `GET {basePath}/events?tenantId=…`: status events only,
 * no replay, no end. Keeps the last seq of each job still live (a job is forgotten at its terminal
 * event), so an event that comes again after a reconnect is dropped.
 */
export function watchJobs(transport: Transport, basePath: string, query: WatchQuery): Subscription<JobStatusEvent> {
  const { status } = query;
  const params = { tenantId: query.tenantId, workspaceId: query.workspaceId, plugin: query.plugin, status: typeof status === 'string' ? status : status?.join(',') };
  const seen = new Map<string, number>();
  return {
    connection: () => ({ url: transport.url(`${basePath}/events`, params) }),
    accept(event) {
      if (!isStatusEvent(event) || event.seq <= (seen.get(event.jobId) ?? 0)) return undefined;
      if (isTerminalEventType(event.type)) seen.delete(event.jobId);
      else seen.set(event.jobId, event.seq);
      return event;
    },
    finished: () => false,
  };
}
