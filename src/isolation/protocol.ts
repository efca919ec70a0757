import { isJobwireError, JobwireError, messageOf, type JobwireErrorCode } from '../errors.js';
import type { JobContextInfo } from '../plugin-manager/types.js';

/** One job for an isolated plugin: everything `run()` needs, as plain structured-clone data. */
export interface TaskRequest {
  /** The plugin module's `file:` URL. */
  module: string;
  plugin: string;
  jobId: string;
  /** Which try this is, from 1. */
  attempt: number;
  input: unknown;
  config: unknown;
  job: JobContextInfo;
}

/** An error as it crosses the boundary. */
export interface WireError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
}

/** Worker → host. */
export type WorkerMessage =
  /** `percent` as the plugin passed it (the host checks it). */
  | { type: 'progress'; percent: unknown; message?: string | undefined }
  | { type: 'log'; message: string }
  /** Chunks the plugin wrote (`ctx.write`) since the last message, in order, as it passed them (the host checks them). */
  | { type: 'output'; chunks: unknown[] }
  | { type: 'result'; value: unknown }
  /** `run()` threw or rejected. */
  | { type: 'error'; error: WireError }
  /** The worker is going down: an uncaught exception, an unhandled rejection or `process.exit`. */
  | { type: 'crash'; error?: WireError; exitCode?: number };

/** Host → worker. */
export type HostMessage = { type: 'run'; request: TaskRequest } | { type: 'abort'; code: JobwireErrorCode; message: string };

/** The wire form of anything thrown. */
export function toWireError(thrown: unknown): WireError {
  const wire: WireError = { name: thrown instanceof Error ? thrown.name : 'Error', message: messageOf(thrown) };
  if (thrown instanceof Error && thrown.stack !== undefined) wire.stack = thrown.stack;
  if (isJobwireError(thrown)) wire.code = thrown.code;
  return wire;
}

/** An `Error` on the host side that reads like the one thrown in the worker. */
export function fromWireError(wire: WireError): Error {
  const error = wire.code !== undefined && wire.name === 'JobwireError' ? new JobwireError(wire.code as JobwireErrorCode, wire.message) : new Error(wire.message);
  if (wire.name !== 'JobwireError') error.name = wire.name;
  if (wire.stack !== undefined) error.stack = wire.stack;
  return error;
}

/** The abort message for a signal's reason (a `JobwireError` from the tracker, or anything else). */
export function abortMessage(reason: unknown): HostMessage {
  return isJobwireError(reason) ? { type: 'abort', code: reason.code, message: reason.message } : { type: 'abort', code: 'CANCELLED', message: messageOf(reason ?? 'Cancelled') };
}
