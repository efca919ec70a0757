import { checkRetryPolicy, type RetryPolicy } from '../retry/retry-policy.js';
import { z } from 'zod';
import { JobwireError } from '../errors.js';
import { isolationProblem, type IsolationOptions } from '../isolation/options.js';
import type { PluginContext } from './types.js';

/** Plugin names: lowercase, digits, `.`, `_`, `-`; 1–64 characters, starting with a letter or digit. */
export const PLUGIN_NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/**
 * The config schema of a plugin that declares none. Its type is spelled with zod's public
 * `ZodObject` only (no `z.core` internals), so the declarations read the same on every zod 4 minor.
 */
type EmptyConfig = z.ZodObject<{}>;
const EMPTY_CONFIG: EmptyConfig = z.object({});

/**
 * What a plugin's jobs resolve with: the `output` schema's parsed type when the plugin has one,
 * otherwise whatever `run` returns (`TResult`, inferred by {@link definePlugin}).
 */
export type PluginResult<TOutput extends z.ZodType, TResult> = unknown extends z.output<TOutput> ? Awaited<TResult> : z.output<TOutput>;

/** What a plugin author writes; see {@link definePlugin}. */
export interface PluginSpec<
  TInput extends z.ZodType,
  TConfig extends z.ZodType = EmptyConfig,
  TOutput extends z.ZodType = z.ZodUnknown,
  TResult extends z.input<TOutput> = z.input<TOutput>,
> extends IsolationOptions {
  /** Unique name, matching {@link PLUGIN_NAME_PATTERN}. */
  name: string;
  /** Display name. @default name */
  title?: string;
  /** @default '0.0.0' */
  version?: string;
  category?: string;
  description?: string;
  /** Checked on submit; `run` gets the parsed value. */
  input: TInput;
  /** Checked on register and configure; `ctx.config` gets the parsed value. */
  config?: TConfig;
  /** Checked when `run` resolves, when given. */
  output?: TOutput;
  /** Cap on this plugin's running jobs, under the tracker's global concurrency. */
  concurrency?: number;
  /** Default per-job timeout in milliseconds. */
  timeoutMs?: number;
  /**
   * How this plugin's jobs retry by default; submit options (`attempts`, `backoff`,
   * `retryOnTimeout`) override each field. @default one try, no retry
   * @example retry: { attempts: 3, backoff: { type: 'exponential', delayMs: 2000 } }
   */
  retry?: RetryPolicy;
  /** Do the work. Honour `ctx.signal`; report with `ctx.progress`. */
  run(input: z.output<TInput>, ctx: PluginContext<z.output<TConfig>>): Promise<TResult> | TResult;
}

/** A checked plugin definition, ready for `LocalPluginManager.register`. */
export interface Plugin<
  TInput extends z.ZodType = z.ZodType,
  TConfig extends z.ZodType = z.ZodType,
  TOutput extends z.ZodType = z.ZodType,
  TResult extends z.input<TOutput> = z.input<TOutput>,
> {
  readonly name: string;
  readonly title: string;
  readonly version: string;
  readonly category?: string;
  readonly description?: string;
  readonly input: TInput;
  readonly config: TConfig;
  readonly output?: TOutput;
  readonly concurrency?: number;
  readonly timeoutMs?: number;
  /** Default retry policy of this plugin's jobs. */
  readonly retry?: RetryPolicy;
  /** Where `run()` executes; see {@link IsolationOptions}. */
  readonly isolation?: IsolationOptions['isolation'];
  /** The plugin's own module, for isolated runs. */
  readonly module?: IsolationOptions['module'];
  /** Grace before an isolated plugin is force-stopped after an abort. */
  readonly cancelGraceMs?: number;
  /** Memory caps for an isolated plugin. */
  readonly resourceLimits?: IsolationOptions['resourceLimits'];
  run(input: z.output<TInput>, ctx: PluginContext<z.output<TConfig>>): Promise<TResult> | TResult;
}

/** Input type of a plugin, as a client sends it. */
export type PluginInput<P> = P extends Plugin<infer I, z.ZodType, z.ZodType> ? z.input<I> : never;
/** Result type of a plugin: its `output` schema's type, or what its `run` returns when it has none. */
export type PluginOutput<P> = P extends Plugin<z.ZodType, z.ZodType, infer O, infer R> ? PluginResult<O, R> : never;
/** Config type of a plugin, as given to `register`/`configure`. */
export type PluginConfigInput<P> = P extends Plugin<z.ZodType, infer C, z.ZodType> ? z.input<C> : never;

/** A zod 4 schema: every one carries `_zod` (zod 3 schemas have `_def` only) and, from `zod`, `safeParse`. */
function isZod4Schema(value: unknown): value is z.ZodType {
  return typeof value === 'object' && value !== null && typeof (value as { _zod?: unknown })._zod === 'object' && typeof (value as { safeParse?: unknown }).safeParse === 'function';
}

/** Why `value` is not a schema jobwire can use, for the `key` field of a plugin. */
function schemaProblem(key: string, value: unknown): string | undefined {
  if (isZod4Schema(value)) return undefined;
  const zod3 = typeof value === 'object' && value !== null && '_def' in value && typeof (value as { safeParse?: unknown }).safeParse === 'function';
  if (zod3) return `\`${key}\` is a zod 3 schema: jobwire needs zod 4 (npm install zod@^4, and import { z } from 'zod')`;
  return `\`${key}\` must be a zod 4 schema (import { z } from 'zod')`;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function invalid(name: unknown, why: string): JobwireError {
  return new JobwireError('INVALID_CONFIG', `Invalid plugin ${typeof name === 'string' ? `"${name}"` : ''}: ${why}`.replace('  ', ' '));
}

/**
 * Define a plugin. `run`'s input and `ctx.config` are typed from the zod schemas; its result from
 * the `output` schema, or from what `run` returns when there is none.
 *
 * @throws JobwireError `INVALID_CONFIG` when the definition is malformed (bad name, missing schema…).
 * @example
 * ```ts
 * const transcribe = definePlugin({
 *   name: 'transcribe',
 *   input: z.object({ audio: z.string() }),
 *   config: z.object({ model: z.string().default('tiny') }),
 *   async run(input, ctx) {
 *     ctx.progress(10, `loading ${ctx.config.model}`);
 *     return { text: `…${input.audio}` };
 *   },
 * });
 * ```
 */
export function definePlugin<
  TInput extends z.ZodType,
  TConfig extends z.ZodType = EmptyConfig,
  TOutput extends z.ZodType = z.ZodUnknown,
  TResult extends z.input<TOutput> = z.input<TOutput>,
>(spec: PluginSpec<TInput, TConfig, TOutput, TResult>): Plugin<TInput, TConfig, TOutput, TResult> {
  return checkPlugin(spec) as unknown as Plugin<TInput, TConfig, TOutput, TResult>;
}

/**
 * Check an untrusted value is a plugin definition (as `definePlugin` would) and return it normalised.
 * Used for plugins that come from modules loaded at run time.
 */
export function checkPlugin(value: unknown): Plugin {
  if (typeof value !== 'object' || value === null) throw invalid(undefined, `expected an object, got ${value === null ? 'null' : typeof value}`);
  const spec = value as Record<string, unknown>;
  const { name } = spec;
  if (typeof name !== 'string' || !PLUGIN_NAME_PATTERN.test(name)) {
    throw invalid(name, `name must match ${PLUGIN_NAME_PATTERN}, got ${JSON.stringify(name) ?? String(name)}`);
  }
  for (const key of ['input', 'config', 'output'] as const) {
    const problem = key === 'input' || spec[key] !== undefined ? schemaProblem(key, spec[key]) : undefined;
    if (problem) throw invalid(name, problem);
  }
  if (typeof spec.run !== 'function') throw invalid(name, '`run` must be a function');
  for (const key of ['title', 'version', 'category', 'description'] as const) {
    if (spec[key] !== undefined && typeof spec[key] !== 'string') throw invalid(name, `\`${key}\` must be a string`);
  }
  if (spec.concurrency !== undefined && !isPositiveInteger(spec.concurrency)) throw invalid(name, '`concurrency` must be a positive integer');
  if (spec.timeoutMs !== undefined && !isPositiveInteger(spec.timeoutMs)) throw invalid(name, '`timeoutMs` must be a positive integer');
  const retry = spec.retry === undefined ? undefined : checkRetryPolicy(spec.retry, (message) => invalid(name, message));
  const problem = isolationProblem(spec);
  if (problem) throw invalid(name, problem);

  const plugin: Record<string, unknown> = {
    ...spec,
    name,
    title: (spec.title as string | undefined) ?? name,
    version: (spec.version as string | undefined) ?? '0.0.0',
    config: spec.config ?? EMPTY_CONFIG,
  };
  if (retry !== undefined) plugin.retry = Object.freeze(retry);
  return Object.freeze(plugin) as unknown as Plugin;
}
