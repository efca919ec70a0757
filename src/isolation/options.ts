import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { JobwireError } from '../errors.js';

/**
 * Where a plugin's `run()` executes:
 * - `inline` (default): on the host's event loop, like any async function;
 * - `thread`: in a worker thread from a per-plugin pool; a busy loop no longer stalls the host;
 * - `process`: in a child process of its own, in its own process group, started per job.
 */
export type IsolationMode = 'inline' | 'thread' | 'process';

/** Every {@link IsolationMode}, in a frozen list. */
export const ISOLATION_MODES: readonly IsolationMode[] = Object.freeze(['inline', 'thread', 'process']);

/** Memory caps for an isolated plugin; a plugin that goes over fails its job with `PLUGIN_FAILED`. */
export interface IsolationLimits {
  /** Cap on the V8 old-generation heap, in MiB (a thread's `resourceLimits`, a process's `--max-old-space-size`). */
  maxOldGenerationSizeMb?: number;
}

/** Which job a line of a worker's stderr came from; see {@link StderrTarget}. */
export interface StderrSource {
  plugin: string;
  jobId: string;
}

/**
 * Where the stderr of a `process` worker goes:
 * - `'inherit'`: copied to the host's own `process.stderr` as it comes;
 * - `'ignore'`: dropped;
 * - a function: called with each line (without its line ending) and the job it came from, e.g. to
 *   hand it to the host's logger. A line cut off by the worker's death is passed when the pipe closes.
 *
 * Either way jobwire keeps the last 4 KiB to explain a worker that ran out of memory. Worker threads
 * share the host's process and write to its stderr directly: this setting does not apply to them.
 *
 * @example
 * ```ts
 * plugins.register(transcode, undefined, {
 *   stderr: (line, { plugin, jobId }) => logger.warn({ plugin, jobId }, line),
 * });
 * ```
 */
export type StderrTarget = 'inherit' | 'ignore' | ((line: string, source: StderrSource) => void);

/** How a plugin is run; given to `definePlugin` or, overriding it, to `LocalPluginManager.register`. */
export interface IsolationOptions {
  /** Where `run()` executes. @default 'inline' */
  isolation?: IsolationMode;
  /**
   * The plugin's own module, so a worker can import it: `import.meta.url` (ESM) or `__filename` (CJS),
   * or any absolute path or `file:` URL. Not needed for plugins loaded with `load`/`loadDirectory`.
   */
  module?: string | URL;
  /**
   * After a cancel or timeout aborts `ctx.signal`, how long an isolated plugin may take to settle
   * before its thread is terminated or its process killed with what it started. @default 3000
   */
  cancelGraceMs?: number;
  /** Memory caps for `thread` and `process` isolation. */
  resourceLimits?: IsolationLimits;
  /**
   * Where a `process` worker's stderr goes: the host's stderr, nowhere, or a function that takes
   * each line (see {@link StderrTarget}). Usually set by the host at `register`.
   * @default 'inherit'
   */
  stderr?: StderrTarget;
}

/** What an isolated plugin runs with, once checked. */
export interface ResolvedIsolation {
  mode: 'thread' | 'process';
  /** The plugin module's `file:` URL. */
  module: string;
  graceMs: number;
  limits: IsolationLimits;
  stderr: StderrTarget;
}

/** Default of {@link IsolationOptions.cancelGraceMs}. */
export const DEFAULT_CANCEL_GRACE_MS = 3_000;

/** Why an isolation setting is wrong, or `undefined` when it is fine. */
export function isolationProblem(options: Record<string, unknown>): string | undefined {
  const { isolation, module, cancelGraceMs, resourceLimits, stderr } = options;
  if (isolation !== undefined && !ISOLATION_MODES.includes(isolation as IsolationMode)) {
    return `\`isolation\` must be one of ${ISOLATION_MODES.map((mode) => `'${mode}'`).join(', ')}, got ${JSON.stringify(isolation) ?? String(isolation)}`;
  }
  if (module !== undefined && moduleUrl(module) === undefined) {
    return '`module` must be a file: URL or an absolute path (use import.meta.url or __filename)';
  }
  if (cancelGraceMs !== undefined && !(typeof cancelGraceMs === 'number' && Number.isInteger(cancelGraceMs) && cancelGraceMs >= 0)) {
    return '`cancelGraceMs` must be an integer >= 0';
  }
  if (resourceLimits !== undefined) {
    if (typeof resourceLimits !== 'object' || resourceLimits === null) return '`resourceLimits` must be an object';
    const max = (resourceLimits as IsolationLimits).maxOldGenerationSizeMb;
    if (max !== undefined && !(typeof max === 'number' && Number.isInteger(max) && max > 0)) {
      return '`resourceLimits.maxOldGenerationSizeMb` must be a positive integer';
    }
  }
  if (stderr !== undefined && stderr !== 'inherit' && stderr !== 'ignore' && typeof stderr !== 'function') {
    return `\`stderr\` must be 'inherit', 'ignore' or a function, got ${JSON.stringify(stderr) ?? String(stderr)}`;
  }
  return undefined;
}

/** A `file:` URL string for a module given as a URL or an absolute path; `undefined` for anything else. */
export function moduleUrl(module: unknown): string | undefined {
  if (module instanceof URL) return module.protocol === 'file:' ? module.href : undefined;
  if (typeof module !== 'string' || module === '') return undefined;
  if (module.startsWith('file:')) {
    try {
      return new URL(module).href;
    } catch {
      return undefined;
    }
  }
  return isAbsolute(module) ? pathToFileURL(module).href : undefined;
}

/**
 * The isolation a plugin runs with: `register`'s options over the plugin's own, checked.
 * `undefined` for inline plugins.
 * @throws JobwireError `INVALID_CONFIG` for a bad setting, or an isolated plugin whose module is unknown or missing.
 */
export function resolveIsolation(plugin: string, declared: { readonly [K in keyof IsolationOptions]?: IsolationOptions[K] | undefined }, given: IsolationOptions): ResolvedIsolation | undefined {
  const problem = isolationProblem(given as Record<string, unknown>);
  if (problem) throw new JobwireError('INVALID_CONFIG', `Invalid options for plugin "${plugin}": ${problem}`);
  const mode = given.isolation ?? declared.isolation ?? 'inline';
  if (mode === 'inline') return undefined;
  const module = moduleUrl(given.module ?? declared.module);
  if (module === undefined) {
    throw new JobwireError(
      'INVALID_CONFIG',
      `Plugin "${plugin}" runs in a ${mode} but its module is unknown: add \`module: import.meta.url\` to its definePlugin, pass { module } to register, or load it with plugins.load(url)`,
    );
  }
  if (!existsSync(fileURLToPath(module))) throw new JobwireError('INVALID_CONFIG', `Plugin "${plugin}": its module ${module} does not exist`);
  return {
    mode,
    module,
    graceMs: given.cancelGraceMs ?? declared.cancelGraceMs ?? DEFAULT_CANCEL_GRACE_MS,
    limits: { ...declared.resourceLimits, ...given.resourceLimits },
    stderr: given.stderr ?? declared.stderr ?? 'inherit',
  };
}
