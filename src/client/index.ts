/**
 * @module jobwire/client — a typed client of jobwire's REST routes and SSE streams: submit, list,
 * cancel, re-run, wait, and follow jobs live with reconnects that never repeat an event nor skip a
 * status event.
 * Framework-free: browsers, Node 20+, Bun and Deno (`fetch` and web streams only).
 */
export { createJobClient } from './create-job-client.js';
export type { JobClient } from './job-client.js';
export type { ConnectionCallbacks, FollowOptions, HeadersInput, JobClientOptions, ReconnectOptions, WaitOptions, WatchOptions, WatchQuery } from './options.js';
export type { AnyPlugins, JobEventOf, JobOf, JobPageOf, JobStatusEventOf, JsonForm, PluginInputOf, PluginLike, PluginMap, PluginName, PluginOutputOf, PluginParsedInputOf, SchemaTypes, TypedJob } from './plugin-types.js';
export { isJobwireError, JobwireError } from '../errors.js';
export type { JobErrorInfo, JobwireErrorCode } from '../errors.js';
export { isStatusEvent, isTerminalStatus } from '../job.js';
export type { JobEvent, JobEventType, JobGapEvent, JobOutputEvent, JobSnapshot, JobStatus, JobStatusEvent, JobStatusEventType, TerminalStatus } from '../job.js';
export type { JobOutput, JobPage, ListQuery, SubmitOptions } from '../tracker/types.js';
export type { PluginMeta } from '../plugin-manager/types.js';
