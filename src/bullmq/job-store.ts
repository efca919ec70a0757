import { JobwireError } from '../errors.js';
import type { JobEvent, JobSnapshot, JobStatus } from '../job.js';
import { isoTime } from '../tracker/job-record.js';
import type { JobCounts } from '../tracker/types.js';

/** Fields a change may set on a job (already JSON-encoded), or '' to delete. */
export interface ChangeFields {
  message?: string;
  result?: string;
  error?: string;
  progress?: string;
  startedAt?: string;
  finishedAt?: string;
  expiresAt?: string;
}

/** A change's outcome. */
export type ChangeResult =
  | { outcome: 'ok'; job: JobSnapshot }
  | { outcome: 'refused'; job: JobSnapshot; status: JobStatus; expiresAtMs: number | undefined }
  | { outcome: 'missing' };

/** What a worker reads to run a job. */
export interface StoredJob {
  job: Omit<JobSnapshot, 'status' | 'progress'>;
  timeoutMs: number | undefined;
}

/** A new job's record, as the backend hands it to the store. */
export interface NewRecord {
  id: string;
  baseJson: string;
  at: string;
  maxQueued: number;
  tenantId: string | undefined;
  idempotencyKey: string | undefined;
  now: number;
  plugin: string;
  workspaceId: string | undefined;
  timeoutMs: number | undefined;
}

/** A list query, as the backend hands it to the store. */
export interface StoreListQuery {
  tenantId: string | undefined;
  beforeOrder: number | undefined;
  limit: number;
  now: number;
  statuses: ReadonlySet<JobStatus> | undefined;
  plugin: string | undefined;
  workspaceId: string | undefined;
}

/**
 * jobwire's own job records next to BullMQ's queue: each method is one atomic step in the
 * database (a Redis script or a SQL transaction) that enforces the transition table, keeps the
 * job's event log (consecutive progress coalesced) and publishes the event to every process.
 */
export interface JobStore {
  create(record: NewRecord): Promise<{ outcome: 'created' | 'existing'; job: JobSnapshot } | { outcome: 'full' }>;
  change(id: string, from: readonly JobStatus[], to: JobStatus | undefined, eventType: JobEvent['type'], at: string, fields?: ChangeFields, expiresAtMs?: number): Promise<ChangeResult>;
  start(id: string, at: string, requeueMessage: string): Promise<StoredJob | undefined>;
  get(id: string, now: number): Promise<JobSnapshot | undefined>;
  log(id: string, now: number): Promise<JobEvent[] | undefined>;
  remove(id: string): Promise<JobSnapshot | undefined>;
  sweep(now: number, limit?: number): Promise<string[]>;
  list(query: StoreListQuery): Promise<{ jobs: JobSnapshot[]; nextOrder: number | undefined }>;
  stats(): Promise<JobCounts>;
  publishCancel(id: string, code: 'CANCELLED' | 'CLOSED', reason: string): Promise<void>;
}

/** What the process-wide subscriber hands the event hub. */
export interface BusHandlers {
  /** A job event (JSON of a JobEvent) or a removal (`{"removed":id,"job":snapshot}`). */
  event(message: string): void;
  /** A cancel request (JSON of `{ id, code, reason }`). */
  cancel(message: string): void;
  /** The subscription came back after a break: messages may have been lost. */
  reconnected(): void;
}

/** The pub/sub side of a store: one subscriber per process. */
export interface Bus {
  start(handlers: BusHandlers): Promise<void>;
  close(): Promise<void>;
}

/** The JSON of a job snapshot from its stored parts (shared by every store). */
export function snapshotJson(parts: {
  base: string;
  status: string;
  progress: string;
  message?: string | null | undefined;
  result?: string | null | undefined;
  error?: string | null | undefined;
  startedAt?: string | null | undefined;
  finishedAt?: string | null | undefined;
  expiresAt?: string | null | undefined;
}): string {
  let snap = `${parts.base},"status":"${parts.status}","progress":${parts.progress}`;
  if (parts.message) snap += `,"message":${parts.message}`;
  if (parts.result) snap += `,"result":${parts.result}`;
  if (parts.error) snap += `,"error":${parts.error}`;
  if (parts.startedAt) snap += `,"startedAt":${parts.startedAt}`;
  if (parts.finishedAt) snap += `,"finishedAt":${parts.finishedAt}`;
  if (parts.expiresAt) snap += `,"expiresAt":${parts.expiresAt}`;
  return `${snap}}`;
}

/** The JSON of a job event. */
export function eventJson(seq: number, type: string, id: string, at: string, snap: string): string {
  return `{"seq":${seq},"type":"${type}","jobId":"${id}","at":"${at}","job":${snap}}`;
}

/** An idempotency key as stored: scoped to its tenant. */
export function idempotencyKeyOf(tenantId: string | undefined, key: string): string {
  return JSON.stringify([tenantId ?? '', key]);
}

/** JSON for a stored field, refusing values that JSON cannot carry. */
export function encodeJson(value: unknown, what: string): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new JobwireError('PLUGIN_FAILED', `The ${what} cannot be stored as JSON`, { cause });
  }
  return text ?? '';
}

/** The fields that stamp a job's end at `at` (epoch ms), with its expiry when the TTL is finite. */
export function endStamps(at: number, ttlMs: number): { fields: ChangeFields; expiresAtMs: number | undefined } {
  const expiresAtMs = Number.isFinite(ttlMs) ? at + ttlMs : undefined;
  const fields: ChangeFields = { finishedAt: JSON.stringify(isoTime(at)) };
  if (expiresAtMs !== undefined) fields.expiresAt = JSON.stringify(isoTime(expiresAtMs));
  return { fields, expiresAtMs };
}
