import type { z } from 'zod';
import type { JobMetadata } from '../job.js';
import { createJobId } from '../ids.js';
import type { Plugin, PluginResult } from '../plugin-manager/define-plugin.js';
import type { IsolationOptions } from '../isolation/options.js';
import { LocalPluginManager } from '../plugin-manager/local-plugin-manager.js';
import { JobwireError } from '../errors.js';
import { invalidProgressMessage, toPercent } from '../plugin-manager/progress.js';

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
}

/**
 * Run one plugin with a real context, outside any tracker: input and config are checked by its
 * schemas exactly as a tracker would, progress and logs are recorded.
 *
 * @throws JobwireError `INVALID_INPUT` / `INVALID_CONFIG` for bad input or config; whatever the plugin throws.
 * @example
 * ```ts
 * const { result, progress } = await runPlugin(transcribe, { audio: 'a.wav' }, { config: { model: 'tiny' } });
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
  // The plugin's signal: the caller's, and aborted too when the plugin reports a bad progress value (as a tracker does).
  const controller = new AbortController();
  const outer = options.signal;
  const onOuterAbort = (): void => controller.abort(outer?.reason);
  if (outer?.aborted) onOuterAbort();
  else outer?.addEventListener('abort', onOuterAbort, { once: true });
  let failure: JobwireError | undefined;
  let result: unknown;
  try {
    result = await manager.execute(name, parsed, {
      jobId: options.jobId ?? createJobId(),
      attempt: options.attempt ?? 1,
      signal: controller.signal,
      progress(percent, message) {
        if (failure) return;
        const value = toPercent(percent);
        if (value === undefined) {
          failure = new JobwireError('PLUGIN_FAILED', invalidProgressMessage(percent));
          controller.abort(failure);
          return;
        }
        const record: ProgressRecord = { percent: value };
        if (message !== undefined) record.message = String(message);
        progress.push(record);
      },
      log(message) {
        logs.push(String(message));
      },
      job: { tenantId: options.job?.tenantId, workspaceId: options.job?.workspaceId, metadata: options.job?.metadata ?? {} },
    });
  } catch (error) {
    throw failure ?? error;
  } finally {
    outer?.removeEventListener('abort', onOuterAbort);
  }
  if (failure) throw failure;
  return { result: result as T, progress, logs };
}
