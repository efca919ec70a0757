import type { z } from 'zod';
import type { JobMetadata } from '../job.js';
import { createJobId } from '../ids.js';
import type { Plugin, PluginResult } from '../plugin-manager/define-plugin.js';
import type { IsolationOptions } from '../isolation/options.js';
import { LocalPluginManager } from '../plugin-manager/local-plugin-manager.js';
import { JobwireError } from '../errors.js';
import { invalidProgressMessage, toPercent } from '../plugin-manager/progress.js';
import { DEFAULT_JOB_LIMITS } from '../engine/json-limits.js';
import { checkedChunk } from '../output/checked-chunk.js';

/** Options for {@link runPlugin}. */
export interface RunPluginOptions<TConfig> {
  /** Plugin config, checked by its schema. @default {} */
  config?: TConfig;
  /** Abort to test cancellation. */
  signal?: AbortSignal;
  /** @default a fresh random id */
  jobId?: string;
  /** What `ctx.attempt` says (to test a plugin's behaviour on a retry). @default 1 */
  attempt?: number;
  /** What `ctx.job` carries. */
  job?: { tenantId?: string; workspaceId?: string; metadata?: JobMetadata };
  /**
   * Where to run it. The plugin's own `isolation` is ignored here so that its logic can be tested
   * from TypeScript sources; pass `'thread'` or `'process'` to test it across the boundary (its
   * module — `module` here or in `definePlugin` — must then be importable by Node as it is). @default 'inline'
   */
  isolation?: IsolationOptions['isolation'];
  /** The plugin's module, for an isolated run when the plugin does not declare it. */
  module?: IsolationOptions['module'];
  /** Grace before an isolated run is force-stopped after `signal` aborts. @default 3000 */
  cancelGraceMs?: number;
}

/** One `ctx.progress` call, as recorded by {@link runPlugin}. */
export interface ProgressRecord {
  percent: number;
  message?: string;
}

/** What {@link runPlugin} resolves with. */
export interface RunPluginResult<TResult> {
  /** The result, checked by the plugin's `output` schema when it has one (typed from it, else from `run`). */
  result: TResult;
  /** Every progress report, in order (percent clamped as the tracker does). */
  progress: ProgressRecord[];
  /** Every `ctx.log` line. */
  logs: string[];
  /**
   * Every chunk the plugin wrote with `ctx.write`, in order, as a tracker's readers get them: a
   * string as it is, any other value as a JSON copy (a `Date` becomes its ISO string).
   */
  output: unknown[];
}

/**
 * Run one plugin with a real context, outside any tracker: input and config are checked by its
 * schemas exactly as a tracker would, progress, output and logs are recorded. A progress value or
 * an output chunk a tracker would refuse fails the run with `PLUGIN_FAILED` and aborts the plugin's
 * signal, as a tracker fails the job.
 *
 * @throws JobwireError `INVALID_INPUT` / `INVALID_CONFIG` for bad input or config; `PLUGIN_FAILED` for a bad progress value or output chunk; whatever the plugin throws.
 * @example
 * ```ts
 * const { result, progress, output } = await runPlugin(transcribe, { audio: 'a.wav' }, { config: { model: 'tiny' } });
 * ```
 */
export async function runPlugin<I extends z.ZodType, C extends z.ZodType, O extends z.ZodType, R extends z.input<O>>(
  plugin: Plugin<I, C, O, R>,
  input: z.input<I>,
  options: RunPluginOptions<z.input<C>> = {},
): Promise<RunPluginResult<PluginResult<O, R>>> {
  const isolation: IsolationOptions = { isolation: options.isolation ?? 'inline' };
  if (options.module !== undefined) isolation.module = options.module;
  if (options.cancelGraceMs !== undefined) isolation.cancelGraceMs = options.cancelGraceMs;
  const manager = new LocalPluginManager().register(plugin, options.config, isolation);
  try {
    return await run(manager, plugin.name, input, options);
  } finally {
    await manager.close();
  }
}

async function run<T>(manager: LocalPluginManager, name: string, input: unknown, options: RunPluginOptions<unknown>): Promise<RunPluginResult<T>> {
  const parsed = manager.validateInput(name, input);
  const progress: ProgressRecord[] = [];
  const logs: string[] = [];
  const output: unknown[] = [];
  // The plugin's signal: the caller's, and aborted too when the plugin reports a bad progress value or writes a bad chunk (as a tracker does).
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: JobwireError | undefined;
  let over = false;
  const fail = (message: string): void => {
    failure = new JobwireError('PLUGIN_FAILED', message);
    controller.abort(failure);
  };
  let result: unknown;
  try {
    result = await manager.execute(name, parsed, {
      jobId: options.jobId ?? createJobId(),
      attempt: options.attempt ?? 1,
      signal: controller.signal,
      progress(percent, message) {
        if (failure || over) return;
        const value = toPercent(percent);
        if (value === undefined) {
          fail(invalidProgressMessage(percent));
          return;
        }
        const record: ProgressRecord = { percent: value };
        if (message !== undefined) record.message = String(message);
        progress.push(record);
      },
      write(chunk) {
        if (failure || over) return;
        const checked = checkedChunk(chunk, DEFAULT_JOB_LIMITS);
        if (checked.ok) output.push(checked.value);
        else fail(checked.message);
      },
      log(message) {
        logs.push(String(message));
      },
      job: { tenantId: options.job?.tenantId, workspaceId: options.job?.workspaceId, metadata: options.job?.metadata ?? {} },
    });
  } catch (error) {
    throw failure ?? error;
  } finally {
    // As for a tracker's job: what the plugin reports once it settled is ignored.
    over = true;
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (failure) throw failure;
  return { result: result as T, progress, logs, output };
}
