/** @module The JobTracker, its options and events. */
export { JobTracker } from './job-tracker.js';
export type { DurationSummary, PluginStats } from './duration-stats.js';
export type {
  CloseOptions,
  EventsOptions,
  JobOutput,
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
