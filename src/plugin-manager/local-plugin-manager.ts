import type { z } from 'zod';
import { JobwireError } from '../errors.js';
import { checkPlugin, type Plugin } from './define-plugin.js';
import { toJsonSchema } from './json-schema.js';
import type { ExecuteContext, PluginContext, PluginFilter, PluginManager, PluginMeta } from './types.js';
import { summarizeIssues, toValidationIssues } from './zod-issues.js';

interface Entry {
  plugin: Plugin;
  config: unknown;
  enabled: boolean;
  meta: PluginMeta;
}

/** Options for {@link LocalPluginManager.register}. */
export interface RegisterOptions {
  /** Register disabled: listed, but submits are refused with `PLUGIN_DISABLED`. @default true */
  enabled?: boolean;
}

function parseConfig(plugin: Plugin, config: unknown): unknown {
  const parsed = plugin.config.safeParse(config ?? {});
  if (!parsed.success) {
    const issues = toValidationIssues(parsed.error);
    throw new JobwireError('INVALID_CONFIG', `Invalid config for plugin "${plugin.name}": ${summarizeIssues(issues)}`, { details: issues });
  }
  return parsed.data;
}

function buildMeta(plugin: Plugin, enabled: boolean): PluginMeta {
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

  /**
   * Add a plugin, checking `config` against its schema.
   * @throws JobwireError `INVALID_CONFIG` for a bad config, a malformed plugin or a name already taken.
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
    const enabled = options.enabled ?? true;
    this.#entries.set(checked.name, { plugin: checked, config: parsedConfig, enabled, meta: buildMeta(checked, enabled) });
    return this;
  }

  /** Remove a plugin. Jobs already running keep running. Returns whether it was there. */
  unregister(name: string): boolean {
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
    const { plugin, config } = entry;
    // Not a spread: that would read ctx.signal, which backends may create only when a plugin uses it.
    const pluginCtx: PluginContext = {
      jobId: ctx.jobId,
      get signal() {
        return ctx.signal;
      },
      progress: ctx.progress,
      log: ctx.log,
      config,
      job: ctx.job,
    };
    const result: unknown = await plugin.run(input, pluginCtx);
    if (plugin.output === undefined) return result;
    const parsed = plugin.output.safeParse(result);
    if (!parsed.success) {
      const issues = toValidationIssues(parsed.error);
      throw new JobwireError('PLUGIN_FAILED', `Plugin "${name}" returned an invalid result: ${summarizeIssues(issues)}`, { details: issues });
    }
    return parsed.data;
  }

  #require(name: string): Entry {
    const entry = this.#entries.get(name);
    if (!entry) throw new JobwireError('PLUGIN_NOT_FOUND', `Unknown plugin "${name}"`);
    return entry;
  }

  #setEnabled(name: string, enabled: boolean): void {
    const entry = this.#require(name);
    entry.enabled = enabled;
    entry.meta = { ...entry.meta, enabled };
  }
}
