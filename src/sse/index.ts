/** @module jobwire/sse — Server-Sent Events for jobs: frame encoder, one-job, several-jobs and tenant-wide streams, Response and node writers. */
export { encodeSSE, encodeSSEComment, SSE_HEADERS } from './encode.js';
export type { SSEMessage } from './encode.js';
export { openJobStream } from './job-stream.js';
export type { JobStream, JobStreamOptions } from './job-stream.js';
export { DEFAULT_MAX_WAITING_EVENTS, MAX_STREAM_JOBS, openJobsStream } from './jobs-stream.js';
export type { JobsStream, JobsStreamOptions, JobsStreamQuery } from './jobs-stream.js';
export { countOpenStreams } from './open-streams.js';
export type { SSEStreamOptions } from './stream-options.js';
export { toSSEResponse } from './response.js';
export type { SSEStream } from './response.js';
export { writeSSE } from './node.js';
export type { WriteSSEOptions } from './node.js';
