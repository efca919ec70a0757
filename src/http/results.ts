import type { JobSnapshot } from '../job.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { StoredOutput, StoredResult } from '../storage/types.js';
import { buildStoredResult } from '../engine/stored-result.js';

/**
 * A completed job's result in the shape a `ResultStorage` keeps it, built from its snapshot
 * with the same helper the backends save with, and the output it wrote (`output`), as saved.
 */
export function storedResultOf(plugins: PluginManager, job: JobSnapshot, output?: StoredOutput): StoredResult {
  const createdAt = Date.parse(job.createdAt);
  const info = {
    id: job.id,
    plugin: job.plugin,
    input: job.input,
    tenantId: job.tenantId,
    workspaceId: job.workspaceId,
    metadata: job.metadata,
    createdAt,
    startedAt: job.startedAt === undefined ? undefined : Date.parse(job.startedAt),
  };
  const stored = buildStoredResult(plugins, info, job.result, job.finishedAt === undefined ? createdAt : Date.parse(job.finishedAt));
  if (output !== undefined) stored.output = output;
  return stored;
}
