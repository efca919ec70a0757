import type { JobMetadata } from '../job.js';

/** A completed job's result, as kept by a {@link ResultStorage}. Plain JSON; times ISO 8601. */
export interface StoredResult {
  jobId: string;
  plugin: { name: string; title: string; version: string };
  input: unknown;
  result: unknown;
  tenantId?: string;
  workspaceId?: string;
  metadata: JobMetadata;
  createdAt: string;
  finishedAt: string;
  durationMs: number;
  /** What the plugin wrote with `ctx.write`, when it wrote anything (see {@link StoredOutput}). */
  output?: StoredOutput;
}

/**
 * A finished job's output as a result keeps it: the concatenation when every chunk retained was a
 * string (`text`), else the chunks themselves; `gap` when output was dropped past the job's
 * `outputLimitBytes` (what is kept is then its newest part).
 */
export type StoredOutput = { text: string; gap?: true } | { chunks: unknown[]; gap?: true };

/** Query for {@link ResultStorage.list}. */
export interface ResultQuery {
  tenantId?: string;
  plugin?: string;
  /** @default 50 (max 1000) */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

/** A page of results, newest first. */
export interface ResultPage {
  results: StoredResult[];
  /** Present when there may be more. */
  nextCursor?: string;
}

/**
 * Where completed results go. The tracker calls `save` once per completed job, before it
 * announces `completed`; implementations must make a repeated `save` of the same job harmless.
 */
export interface ResultStorage {
  /** Store a result; saving the same `jobId` again keeps the first. */
  save(record: StoredResult): Promise<void>;
  get(jobId: string): Promise<StoredResult | undefined>;
  /** Newest first. */
  list(query?: ResultQuery): Promise<ResultPage>;
  /** Returns whether something was deleted. */
  delete(jobId: string): Promise<boolean>;
}
