/**
 * @module jobwire/backend — the contract a backend implements (a {@link JobStore}, a
 * {@link JobBus} and a {@link JobDispatcher}, opened by a {@link JobBackend}) and the toolkit its
 * drivers use. Applications never need it: pick a backend (`MemoryBackend`, `BullMQBackend`) and
 * pass it to the tracker. Check an implementation with `testJobBackend` from `jobwire/testing`.
 */
export type { JobRecord, JobTraceContext } from './job-record.js';
export type { LoggedEvent } from './logged-event.js';
export type { CommitResult, CreateLimits, CreateResult, JobChange, JobStore, OutputAppend, OutputChunk, RecordPage, StoreListQuery } from './job-store.js';
export type { BusHandlers, JobBus } from './job-bus.js';
export type { DispatchedJob, DispatchHandlers, ForeignJob, JobDispatcher, RunOutcome } from './job-dispatcher.js';
export type { JobScheduler, ScheduleRecord, ScheduleState, ScheduleTick } from './job-scheduler.js';
export type { BackendDrivers, BackendHost, BackendSettings, JobBackend } from './job-backend.js';

// The toolkit: what every driver builds on, so that no driver writes it again.
export { eventOf, snapshotOf } from '../engine/job-json.js';
export { isoTime } from '../engine/iso-time.js';
export { JOB_TRANSITIONS, canTransition } from '../engine/transitions.js';
export { idempotencyScope } from '../engine/idempotency.js';
export { jobCounts } from '../engine/job-counts.js';
export { loggedEvent, parseLoggedEvent } from '../engine/logged-events.js';
export { CHUNK_COST, chunkCost, firstSeqOfBatch, gapEvent, lastSeqOf, mergeLog, outputBatchJson, outputBytes, outputEvent, outputEventsOf, parseOutputBatch } from '../output/output-events.js';
export { decodeCursor, encodeCursor } from '../ordered-index.js';
export { nextTick } from '../schedule/next-tick.js';
export { backoffDelay } from '../retry/retry-policy.js';
