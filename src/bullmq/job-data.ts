import type { JobRecord } from '../backend/job-record.js';
import { isValidJobId } from '../valid-job-id.js';
import { parseRecord } from './record-json.js';

/** The jobwire fields of a BullMQ job's data: what a BullMQ tool shows of the job besides its input. */
export interface JobwireFields {
  /** The jobwire job id (`tracker.get(id)`); the BullMQ job id too, unless the job was added by hand. */
  id: string;
  /** The plugin that runs it (the BullMQ job's name too). */
  plugin: string;
  tenantId?: string;
  workspaceId?: string;
  /** The jobwire priority, when not the default (higher runs first). */
  priority?: number;
  /** Tries in all, when more than one. */
  maxAttempts?: number;
  /**
   * The record as it was queued, as JSON text: it saves the worker a read. BullMQ on PostgreSQL
   * keeps data as jsonb, which cannot hold every string a record may; JSON text it can.
   */
  record: string;
}

/**
 * What a BullMQ job jobwire queued carries as its `data`: the job's input, as the plugin's schema
 * parsed it, and the jobwire fields. A job added to the queue by hand (`queue.add(plugin, input)`)
 * carries the input alone until a worker adopts it; it then carries the same shape.
 */
export interface QueuedJobData {
  /** The job's input; absent when BullMQ's database cannot keep it as data (see {@link jobDataOf}). */
  input?: unknown;
  jobwire: JobwireFields;
}

/** The shape jobs were queued with before `data` carried the input: still read, for jobs queued by an older version. */
interface LegacyJobData {
  id: string;
  record: string;
}

/**
 * True when `value` can be BullMQ job data or a return value as it is: plain JSON that PostgreSQL's
 * jsonb can hold too (no `\u0000` in any string).
 */
export function showable(value: unknown): boolean {
  try {
    const json = JSON.stringify(value);
    return json === undefined || !json.includes('\\u0000');
  } catch {
    return false;
  }
}

/**
 * The data jobwire gives the BullMQ job of `record`. With `jsonb` (BullMQ on PostgreSQL), data
 * jsonb cannot hold (a `\u0000` in the input, a tenant id…) is left out: the record's JSON text
 * alone is carried then. `data.input` is for BullMQ's tools to show: the worker runs the input of
 * the record (an input edited in BullMQ — Bull Board's *Update data* — is not run unchecked).
 */
export function jobDataOf(record: JobRecord, jsonb: boolean): QueuedJobData {
  const jobwire: JobwireFields = { id: record.id, plugin: record.plugin, record: JSON.stringify(record) };
  if (record.tenantId !== undefined) jobwire.tenantId = record.tenantId;
  if (record.workspaceId !== undefined) jobwire.workspaceId = record.workspaceId;
  if (record.priority !== 0) jobwire.priority = record.priority;
  if (record.maxAttempts > 1) jobwire.maxAttempts = record.maxAttempts;
  const data: QueuedJobData = { input: record.input, jobwire };
  // Every string of `data` is in the record's JSON, written the same way: the record text tells
  // whether `data` is showable (see showable) without writing the input out a second time.
  if (!jsonb || !jobwire.record.includes('\\u0000')) return data;
  return { jobwire: { id: record.id, plugin: record.plugin, record: jobwire.record } };
}

/**
 * The jobwire job a BullMQ job's data names, and the record it carries when readable; undefined for
 * data jobwire did not write. `jobId` is the BullMQ job's id: data of the older shape (`{ id, record }`)
 * counts only with the record as JSON text and its own id — data added by hand that happens to hold
 * an `id` (`{ id: 'img42' }`) is a job to adopt, not a jobwire job.
 */
export function jobwireJobOf(data: unknown, jobId: string | undefined): { id: string; record: JobRecord | undefined } | undefined {
  if (typeof data !== 'object' || data === null) return undefined;
  const fields = (data as Partial<QueuedJobData>).jobwire;
  if (typeof fields === 'object' && fields !== null && isValidJobId(fields.id)) {
    return { id: fields.id, record: recordOf(fields.record) };
  }
  const legacy = data as Partial<LegacyJobData>;
  if (isValidJobId(legacy.id) && legacy.id === jobId && typeof legacy.record === 'string' && Object.keys(data).every((key) => key === 'id' || key === 'record')) {
    return { id: legacy.id, record: recordOf(legacy.record) };
  }
  return undefined;
}

/** The carried record, or undefined when unreadable: the store has the truth. */
function recordOf(text: unknown): JobRecord | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    return parseRecord(text);
  } catch {
    return undefined; // damaged: the store has the truth
  }
}
