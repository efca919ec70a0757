import type { RetryPolicy } from '../retry/retry-policy.js';
import type { JobMetadata } from '../job.js';

/** A JSON Schema document, as produced by zod's `z.toJSONSchema`. */
export type JsonSchema = Record<string, unknown>;

/**
 * What a running plugin gets besides its input. Plain data and functions only, so the same
 * context can be rebuilt on the other side of a thread or process boundary.
 */
export interface PluginContext<TConfig = unknown> {
  /** Id of the job being run. */
  readonly jobId: string;
  /** Which try this is, from 1 (see the job's `maxAttempts` and the plugin's `retry`). */
  readonly attempt: number;
  /** Aborted on cancel, timeout or shutdown; `signal.reason` is a `JobwireError` saying which. */
  readonly signal: AbortSignal;
  /**
   * Report progress. `percent` is clamped to 0..100 and rounded to 2 decimals; calls after the job
   * ended are ignored. Never throws: a `percent` that is not a number (or NaN) fails the job with
   * `PLUGIN_FAILED` and aborts `signal`. Reports made while the previous one is still being written
   * coalesce to the newest.
   * @example ctx.progress(40, 'decoding');
   */
  progress(percent: number, message?: string): void;
  /**
   * Append a chunk of partial output — a string (a token, a transcript segment), or any JSON
   * value — to the job's log, for readers to follow live (`output` events) and read back
   * (`tracker.output`). Synchronous and cheap: chunks are batched (once per tick, or per store
   * round trip) and never block the plugin. Never coalesced: every chunk keeps its own seq. Never
   * throws: a chunk that is `undefined` or cannot be stored as JSON fails the job with
   * `PLUGIN_FAILED` and aborts `signal`; calls after `run` settled (or the job ended) are ignored. Output written
   * before a `progress` report comes before it in the log, output written after it after it. In
   * a thread or process a chunk must also survive the structured clone to the host (an object
   * holding a function fails the job there, where inline JSON would drop the function).
   * @example ctx.write({ start: 1.2, end: 3.4, text: 'Hello' });
   */
  write(chunk: unknown): void;
  /** Write a line to the tracker's logger, tagged with the job id. */
  log(message: string): void;
  /** The plugin's configuration, parsed by its `config` schema. */
  readonly config: TConfig;
  /** Who submitted the job and what they attached to it. */
  readonly job: JobContextInfo;
}

/** The submitter-side fields of a job, as a plugin sees them. */
export interface JobContextInfo {
  readonly tenantId?: string | undefined;
  readonly workspaceId?: string | undefined;
  readonly metadata: JobMetadata;
}

/** The context a {@link PluginManager} receives; it adds `config` itself. */
export type ExecuteContext = Omit<PluginContext, 'config'>;

/** Public description of a registered plugin, with JSON Schemas a UI can draw a form from. */
export interface PluginMeta {
  name: string;
  /** Display name; defaults to `name`. */
  title: string;
  version: string;
  category?: string;
  description?: string;
  enabled: boolean;
  /** JSON Schema of the input (the shape a client sends). */
  inputSchema: JsonSchema;
  /** JSON Schema of the configuration. */
  configSchema: JsonSchema;
  /** JSON Schema of the result, when the plugin declares one. */
  outputSchema?: JsonSchema;
  /** Cap on this plugin's running jobs, under the tracker's global concurrency. */
  concurrency?: number;
  /** Default timeout for this plugin's jobs, in milliseconds. */
  timeoutMs?: number;
  /** Default retry policy of this plugin's jobs (submit options override each field). */
  retry?: RetryPolicy;
  /** Set when the plugin runs isolated (`thread` or `process`); absent for inline plugins. */
  isolation?: 'thread' | 'process';
}

/** Filter for {@link PluginManager.list}. */
export interface PluginFilter {
  category?: string;
  enabled?: boolean;
}

/**
 * What a JobTracker needs from plugins. {@link LocalPluginManager} is the default; a host may
 * implement its own (a remote registry, say), and `jobwire/testing` has a scripted mock.
 */
export interface PluginManager {
  /** True when a plugin of that name is registered (enabled or not). */
  has(name: string): boolean;
  /** Meta of one plugin, or `undefined`. */
  getMeta(name: string): PluginMeta | undefined;
  /** Meta of every plugin matching the filter, in registration order. */
  list(filter?: PluginFilter): PluginMeta[];
  /**
   * Parse `input` with the plugin's input schema and return the parsed value.
   * @throws JobwireError `PLUGIN_NOT_FOUND`, `PLUGIN_DISABLED`, or `INVALID_INPUT` (issues in `details`).
   */
  validateInput(name: string, input: unknown): unknown;
  /**
   * Run the plugin. Resolves with its (output-checked) result; rejects with whatever failed.
   */
  execute(name: string, input: unknown, ctx: ExecuteContext): Promise<unknown>;
}
