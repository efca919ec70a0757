/** @module The JobTracker, its options and events, and the backend contract. */
export { JobTracker } from './job-tracker.js';
export { MemoryBackend } from './memory-backend.js';
export type { DurationSummary, PluginStats } from './duration-stats.js';
export type { BackendEventsOptions, BackendHost, BackendListQuery, BackendSettings, JobBackend, NewJob } from './backend.js';
export type {
  CloseOptions,
  EventsOptions,
  JobPage,
  JobCounts,
  JobRemovedEvent,
  JobStats,
  JobTrackerEvents,
  JobTrackerOptions,
  ListQuery,
  StorageFailedEvent,
  SubmitOptions,
  WaitOptions,
} from './types.js';
