import type { z } from 'zod';
import { isJobwireError, JobwireError, messageOf } from '../errors.js';
import { resolveIsolation, type IsolationOptions, type ResolvedIsolation } from '../isolation/options.js';
import { ProcessRunner } from '../isolation/process-runner.js';
import { ThreadRunner } from '../isolation/thread-runner.js';
import { checkPlugin, type Plugin } from './define-plugin.js';
import { toJsonSchema } from './json-schema.js';
import { unknownPluginError } from './unknown-plugin.js';
import { importPluginModule, listPluginModules, requireModuleUrl } from './load-module.js';
import type { ExecuteContext, PluginContext, PluginFilter, PluginManager, PluginMeta } from './types.js';
import { summarizeIssues, toValidationIssues } from './zod-issues.js';

interface Entry {
  plugin: Plugin;
  config: unknown;
  enabled: boolean;
  meta: PluginMeta;
  /** Set for `thread` and `process` plugins. */
  isolation: ResolvedIsolation | undefined;
  /** Started at the first isolated run. */
  runner?: ThreadRunner | ProcessRunner;
}

/**
 * Options for {@link LocalPluginManager.register}. The isolation settings override what the
 * plugin's `definePlugin` declares.
 */
export interface RegisterOptions extends IsolationOptions {
  /** Register disabled: listed, but submits are refused with `PLUGIN_DISABLED`. @default true */
  enabled?: boolean;
}

/** Options for {@link LocalPluginManager.loadDirectory}. */
export interface LoadDirectoryOptions {
  /** Config per plugin name, checked against each plugin's schema. */
  configs?: Record<string, unknown>;
  /** Applied to every plugin of the folder (isolation settings override the plugins' own). */
  register?: Omit<RegisterOptions, 'module'>;
}

/** A module of the folder that could not be loaded, checked or registered. */
export interface PluginLoadFailure {
  /** The module's `file:` URL. */
  module: string;
  /** `INVALID_CONFIG`, saying what is wrong with it. */
  error: JobwireError;
}

/** What {@link LocalPluginManager.loadDirectory} did. */
export interface LoadDirectoryResult {
  /** Names of the plugins registered, in file-name order. */
  loaded: string[];
  /** One per broken module; the other modules are registered regardless. */
  failed: PluginLoadFailure[];
}

function parseConfig(plugin: Plugin, config: unknown): unknown {
  const parsed = plugin.config.safeParse(config ?? {});
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    throw new JobwireError('INVALID_CONFIG', `Invalid config for plugin "${plugin.name}": ${summarizeIssues(issues)}`, { details: issues });
  }
  return parsed.data;
}

function buildMeta(plugin: Plugin, enabled: boolean, isolation: ResolvedIsolation | undefined): PluginMeta {
  const meta: PluginMeta = {
    name: plugin.name,
    title: plugin.title,
    version: plugin.version,
    enabled,
    inputSchema: toJsonSchema(plugin.input),
    configSchema: toJsonSchema(plugin.config),
  };
  if (plugin.category !== undefined) meta.category = plugin.category;
  if (plugin.description !== undefined) meta.description = plugin.description;
  if (plugin.output !== undefined) meta.outputSchema = toJsonSchema(plugin.output);
  if (plugin.concurrency !== undefined) meta.concurrency = plugin.concurrency;
  if (plugin.timeoutMs !== undefined) meta.timeoutMs = plugin.timeoutMs;
  if (plugin.retry !== undefined) meta.retry = plugin.retry;
  if (isolation !== undefined) meta.isolation = isolation.mode;
  return meta;
}

/**
 * The in-process plugin registry. Every method but `execute` is synchronous.
 *
 * @example
 * ```ts
 * const plugins = new LocalPluginManager();
 * plugins.register(transcribe, { model: 'base' });
 * const tracker = new JobTracker({ plugins });
 * ```
 */
export class LocalPluginManager implements PluginManager {
  readonly #entries = new Map<string, Entry>();
  /** Workers of unregistered plugins, still stopped by `close()`. */
  readonly #retired = new Set<ThreadRunner | ProcessRunner>();

  /**
   * Add a plugin, checking `config` against its schema. Isolation options given here override the
   * plugin's own: `register(plugin, config, { isolation: 'thread', module: import.meta.url })`.
   * @throws JobwireError `INVALID_CONFIG` for a bad config, a malformed plugin, a name already taken,
   * or an isolated plugin whose module is unknown.
   */
  register<I extends z.ZodType, C extends z.ZodType, O extends z.ZodType>(
    plugin: Plugin<I, C, O>,
    config?: z.input<C>,
    options: RegisterOptions = {},
  ): this {
    const checked = checkPlugin(plugin);
    if (this.#entries.has(checked.name)) {
      throw new JobwireError('INVALID_CONFIG', `Plugin "${checked.name}" is already registered; unregister it first`);
    }
    const parsedConfig = parseConfig(checked, config);
    const isolation = resolveIsolation(checked.name, checked, options);
    const enabled = options.enabled ?? true;
    this.#entries.set(checked.name, { plugin: checked, config: parsedConfig, enabled, meta: buildMeta(checked, enabled, isolation), isolation });
    return this;
  }

  /**
   * Import a plugin module (its default export is a `definePlugin` result) and register it. The
   * module's URL is known, so the plugin can run isolated without declaring `module`.
   * @param module `file:` URL or absolute path, e.g. `new URL('./plugins/transcribe.js', import.meta.url)`.
   * @returns the plugin's name.
   * @throws JobwireError `INVALID_CONFIG` when the module cannot be imported, exports no valid plugin,
   * or `register` refuses it.
   */
  async load(module: string | URL, config?: unknown, options: Omit<RegisterOptions, 'module'> = {}): Promise<string> {
    const url = requireModuleUrl(module);
    return this.#registerModule(url, await importPluginModule(url), () => config, options);
  }

  /**
   * Load every plugin module of a folder (`.js`, `.mjs`, `.cjs`, and `.ts`/`.mts`/`.cts` when a
   * TypeScript loader runs; not recursive), in file-name order. A broken module is reported in
   * `failed` and does not stop the others.
   * @throws JobwireError `INVALID_CONFIG` only when the folder itself cannot be read.
   * @example
   * ```ts
   * const { loaded, failed } = await plugins.loadDirectory(new URL('./plugins/', import.meta.url));
   * for (const { module, error } of failed) logger.error({ module, err: error }, error.message);
   * ```
   */
  async loadDirectory(dir: string | URL, options: LoadDirectoryOptions = {}): Promise<LoadDirectoryResult> {
    const result: LoadDirectoryResult = { loaded: [], failed: [] };
    for (const module of await listPluginModules(dir)) {
      try {
        const exported = await importPluginModule(module);
        result.loaded.push(this.#registerModule(module, exported, (name) => options.configs?.[name], options.register));
      } catch (error) {
        const failure = isJobwireError(error) ? error : new JobwireError('INVALID_CONFIG', `Plugin module ${module}: ${messageOf(error)}`, { cause: error });
        result.failed.push({ module, error: failure });
      }
    }
    return result;
  }

  /**
   * Stop every worker thread and process of isolated plugins now; their running jobs fail. Call it
   * when the host shuts down (after `tracker.close()`). Idle threads also exit by themselves.
   */
  async close(): Promise<void> {
    const runners = [...this.#retired];
    this.#retired.clear();
    for (const entry of this.#entries.values()) {
      if (entry.runner) runners.push(entry.runner);
      delete entry.runner;
    }
    await Promise.all(runners.map((runner) => runner.close()));
  }

  /** Remove a plugin. Jobs already running keep running (until they end, or `close()`). Returns whether it was there. */
  unregister(name: string): boolean {
    const runner = this.#entries.get(name)?.runner;
    if (runner) this.#retired.add(runner);
    return this.#entries.delete(name);
  }

  /**
   * Replace a plugin's config. Jobs already running keep the config they started with.
   * @throws JobwireError `PLUGIN_NOT_FOUND` or `INVALID_CONFIG`.
   */
  configure(name: string, config: unknown): this {
    const entry = this.#require(name);
    entry.config = parseConfig(entry.plugin, config);
    return this;
  }

  /** Accept submits for this plugin again. @throws JobwireError `PLUGIN_NOT_FOUND`. */
  enable(name: string): this {
    this.#setEnabled(name, true);
    return this;
  }

  /** Refuse new submits (`PLUGIN_DISABLED`); queued and running jobs go on. @throws JobwireError `PLUGIN_NOT_FOUND`. */
  disable(name: string): this {
    this.#setEnabled(name, false);
    return this;
  }

  /** The parsed config of a plugin, or `undefined` when unknown. */
  getConfig(name: string): unknown {
    return this.#entries.get(name)?.config;
  }

  /** The registered plugin definition, or `undefined`. */
  getPlugin(name: string): Plugin | undefined {
    return this.#entries.get(name)?.plugin;
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  getMeta(name: string): PluginMeta | undefined {
    const entry = this.#entries.get(name);
    return entry && { ...entry.meta };
  }

  list(filter: PluginFilter = {}): PluginMeta[] {
    const result: PluginMeta[] = [];
    for (const entry of this.#entries.values()) {
      if (filter.category !== undefined && entry.meta.category !== filter.category) continue;
      if (filter.enabled !== undefined && entry.enabled !== filter.enabled) continue;
      result.push({ ...entry.meta });
    }
    return result;
  }

  validateInput(name: string, input: unknown): unknown {
    const entry = this.#require(name);
    if (!entry.enabled) throw new JobwireError('PLUGIN_DISABLED', `Plugin "${name}" is disabled`);
    const parsed = entry.plugin.input.safeParse(input);
    if (!parsed.success) {
      const issues = toValidationIssues(parsed.error);
      throw new JobwireError('INVALID_INPUT', `Invalid input for plugin "${name}": ${summarizeIssues(issues)}`, { details: issues });
    }
    return parsed.data;
  }

  async execute(name: string, input: unknown, ctx: ExecuteContext): Promise<unknown> {
    const entry = this.#require(name);
    const { plugin } = entry;
    const result = entry.isolation ? await this.#runIsolated(entry, entry.isolation, input, ctx) : await this.#runInline(entry, input, ctx);
    if (plugin.output === undefined) return result;
    const parsed = plugin.output.safeParse(result);
    if (!parsed.success) {
      const issues = toValidationIssues(parsed.error);
      throw new JobwireError('PLUGIN_FAILED', `Plugin "${name}" returned an invalid result: ${summarizeIssues(issues)}`, { details: issues });
    }
    return parsed.data;
  }

  async #runInline({ plugin, config }: Entry, input: unknown, ctx: ExecuteContext): Promise<unknown> {
    // Not a spread: that would read ctx.signal, which backends may create only when a plugin uses it.
    const pluginCtx: PluginContext = {
      jobId: ctx.jobId,
      attempt: ctx.attempt,
      get signal() {
        return ctx.signal;
      },
      progress: ctx.progress,
      write: ctx.write,
      log: ctx.log,
      config,
      job: ctx.job,
    };
    return plugin.run(input, pluginCtx);
  }

  #runIsolated(entry: Entry, isolation: ResolvedIsolation, input: unknown, ctx: ExecuteContext): Promise<unknown> {
    const { plugin } = entry;
    entry.runner ??= isolation.mode === 'thread' ? new ThreadRunner(plugin.name, isolation, plugin.concurrency) : new ProcessRunner(plugin.name, isolation);
    const { tenantId, workspaceId, metadata } = ctx.job;
    const request = { module: isolation.module, plugin: plugin.name, jobId: ctx.jobId, attempt: ctx.attempt, input, config: entry.config, job: { tenantId, workspaceId, metadata } };
    return entry.runner.run(request, ctx);
  }

  /** Register what a module exported, naming the module in any error. */
  #registerModule(url: string, exported: unknown, configFor: (name: string) => unknown, options: Omit<RegisterOptions, 'module'> = {}): string {
    try {
      const plugin = checkPlugin(exported);
      this.register(plugin, configFor(plugin.name), { ...options, module: url });
      return plugin.name;
    } catch (error) {
      throw new JobwireError('INVALID_CONFIG', `Plugin module ${url}: ${messageOf(error)}`, { cause: error, ...(isJobwireError(error) && error.details !== undefined ? { details: error.details } : {}) });
    }
  }

  #require(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw unknownPluginError(name, this.#entries.keys());
    return entry;
  }

  #setEnabled(name: string, enabled: boolean): void {
    const entry = this.#require(name);
    entry.enabled = enabled;
    entry.meta = { ...entry.meta, enabled };
  }
}
