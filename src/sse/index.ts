/** @module jobwire/sse — Server-Sent Events for jobs: frame encoder, job stream, Response and node writers. */
export { encodeSSE, encodeSSEComment, SSE_HEADERS } from './encode.js';
export type { SSEMessage } from './encode.js';
export { countOpenStreams, openJobStream } from './job-stream.js';
export type { JobStream, JobStreamOptions } from './job-stream.js';
export { toSSEResponse } from './response.js';
export { writeSSE } from './node.js';
export type { WriteSSEOptions } from './node.js';
