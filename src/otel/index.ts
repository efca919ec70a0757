/** @module jobwire/otel — OpenTelemetry spans per job through @opentelemetry/api (an optional peer dependency). */
export { traceJobs } from './trace-jobs.js';
export type { JobTracing, TraceJobsOptions } from './trace-jobs.js';
