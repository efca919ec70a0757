import type { JobStatus } from '../job.js';
import type { StoreListQuery } from './job-store.js';

/** The filters of a job list: tenant, workspace, plugin and statuses (`undefined`: any). */
export type ListFilter = Pick<StoreListQuery, 'tenantId' | 'workspaceId' | 'plugin' | 'statuses'>;

/** True when a job (a record or a snapshot) passes every filter of `filter`. */
export function matchesListFilter(filter: ListFilter, job: { tenantId?: string | undefined; workspaceId?: string | undefined; plugin: string; status: JobStatus }): boolean {
  return (
    (filter.tenantId === undefined || job.tenantId === filter.tenantId) &&
    (filter.workspaceId === undefined || job.workspaceId === filter.workspaceId) &&
    (filter.plugin === undefined || job.plugin === filter.plugin) &&
    (filter.statuses === undefined || filter.statuses.has(job.status))
  );
}
