import type { JobMetadata } from '../job.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { StoredResult } from '../storage/types.js';

/** What a backend knows of a job when its result is saved. */
export interface FinishedJobInfo {
  id: string;
  plugin: string;
  input: unknown;
  tenantId: string | undefined;
  workspaceId: string | undefined;
  metadata: JobMetadata;
  /** Epoch ms. */
  createdAt: number;
  /** Epoch ms. */
  startedAt: number | undefined;
}

/** The record a completed job's result is saved as (every backend saves the same shape). */
export function buildStoredResult(plugins: PluginManager, job: FinishedJobInfo, result: unknown, finishedAt: number): StoredResult {
  const meta = plugins.getMeta(job.plugin);
  const stored: StoredResult = {
    jobId: job.id,
    plugin: { name: job.plugin, title: meta?.title ?? job.plugin, version: meta?.version ?? '0.0.0' },
    input: job.input,
    result,
    metadata: job.metadata,
    createdAt: new Date(job.createdAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - (job.startedAt ?? job.createdAt),
  };
  if (job.tenantId !== undefined) stored.tenantId = job.tenantId;
  if (job.workspaceId !== undefined) stored.workspaceId = job.workspaceId;
  return stored;
}
