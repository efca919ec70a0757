/**
 * @module jobwire — background jobs for Node HTTP apps: submit, follow live, cancel, store results.
 * In memory by default. Integrations live on their own subpaths (`jobwire/testing`, …).
 */
export { JobwireError, isJobwireError, JOBWIRE_ERROR_CODES } from './errors.js';
export type { JobErrorInfo, JobwireErrorCode, JobwireErrorOptions } from './errors.js';

export { JOB_STATUSES, isStatusEvent, isTerminalStatus } from './job.js';
export type { JobEvent, JobEventType, JobGapEvent, JobMetadata, JobOutputEvent, JobSnapshot, JobStatus, JobStatusEvent, JobStatusEventType, TerminalStatus } from './job.js';

export { silentLogger } from './logger.js';
export type { Logger } from './logger.js';
export { isValidJobId } from './ids.js';

export { definePlugin, checkPlugin, PLUGIN_NAME_PATTERN, LocalPluginManager, DEFAULT_CANCEL_GRACE_MS, ISOLATION_MODES } from './plugin-manager/index.js';
export type {
  ExecuteContext,
  IsolationLimits,
  IsolationMode,
  IsolationOptions,
  StderrSource,
  StderrTarget,
  LoadDirectoryOptions,
  LoadDirectoryResult,
  PluginLoadFailure,
  JobContextInfo,
  JsonSchema,
  Plugin,
  PluginConfigInput,
  PluginContext,
  PluginFilter,
  PluginInput,
  PluginManager,
  PluginMeta,
  PluginOutput,
  PluginSpec,
  RegisterOptions,
  ValidationIssue,
} from './plugin-manager/index.js';

export { MemoryResultStorage, FileResultStorage } from './storage/index.js';
export type { FileResultStorageOptions, ResultPage, ResultQuery, ResultStorage, StoredOutput, StoredResult } from './storage/index.js';

export { JobTracker } from './tracker/index.js';
export type {
  CloseOptions,
  EventsOptions,
  DurationSummary,
  JobCounts,
  JobOutput,
  JobPage,
  JobRemovedEvent,
  JobStats,
  PluginStats,
  JobTrackerEvents,
  JobTrackerOptions,
  ListQuery,
  StorageFailedEvent,
  SubmitOptions,
  WaitOptions,
} from './tracker/index.js';
export { NonRetryableError } from './retry/non-retryable-error.js';
export { DEFAULT_BACKOFF } from './retry/retry-policy.js';
export type { BackoffPolicy, RetryPolicy } from './retry/retry-policy.js';
export type { ScheduleInfo, ScheduleOptions, ScheduledJobOptions } from './schedule/types.js';
export { DEFAULT_JOB_LIMITS } from './engine/json-limits.js';
export type { JobLimits } from './engine/json-limits.js';

// The default backend; the contract every backend implements is on `jobwire/backend`.
export { MemoryBackend } from './memory/memory-backend.js';
