import type { JobRecord } from '../backend/job-record.js';
import type { JobSnapshot, JobStatusEvent, JobStatusEventType } from '../job.js';
import { isoTime } from './iso-time.js';

/**
 * The one definition of a job's snapshot: what clients see of a {@link JobRecord}. Every backend
 * builds snapshots and events with these two functions (a store that keeps JSON stores
 * `JSON.stringify` of their result), so the fields agree everywhere.
 */
export function snapshotOf(record: JobRecord): JobSnapshot {
  const snapshot: JobSnapshot = {
    id: record.id,
    plugin: record.plugin,
    status: record.status,
    progress: record.progress,
    input: record.input,
    // A record stored before retries existed has neither: one try.
    attempt: record.attempt ?? 1,
    maxAttempts: record.maxAttempts ?? 1,
    metadata: record.metadata,
    priority: record.priority,
    createdAt: isoTime(record.createdAt),
  };
  if (record.runAt !== undefined && record.status === 'queued') snapshot.runAt = isoTime(record.runAt);
  if (record.lastError !== undefined) snapshot.lastError = record.lastError;
  if (record.retryOf !== undefined) snapshot.retryOf = record.retryOf;
  if (record.scheduleKey !== undefined) snapshot.scheduleKey = record.scheduleKey;
  if (record.message !== undefined) snapshot.message = record.message;
  if (record.result !== undefined) snapshot.result = record.result;
  if (record.error !== undefined) snapshot.error = record.error;
  if (record.tenantId !== undefined) snapshot.tenantId = record.tenantId;
  if (record.workspaceId !== undefined) snapshot.workspaceId = record.workspaceId;
  if (record.startedAt !== undefined) snapshot.startedAt = isoTime(record.startedAt);
  if (record.finishedAt !== undefined) snapshot.finishedAt = isoTime(record.finishedAt);
  if (record.expiresAt !== undefined && Number.isFinite(record.expiresAt)) snapshot.expiresAt = isoTime(record.expiresAt);
  return snapshot;
}

/** The event a commit of `record` adds to the log: its `seq` and type are the record's, `at` the change's time. */
export function eventOf(record: JobRecord, at: number): JobStatusEvent {
  // Only a status commit builds an event from a record: output events are built from their chunks.
  return { seq: record.seq, type: record.event as JobStatusEventType, jobId: record.id, at: isoTime(at), job: snapshotOf(record) };
}
