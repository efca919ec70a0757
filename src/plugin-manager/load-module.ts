import { readdir } from 'node:fs/promises';
import { extname } from 'node:path';
import { JobwireError, messageOf } from '../errors.js';
import { moduleUrl } from '../isolation/options.js';

/** File endings `loadDirectory` imports (declaration files and source maps are skipped). */
const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs', '.ts', '.mts', '.cts']);
const DECLARATION = /\.d\.[cm]?ts$/;

/**
 * A module's `file:` URL from a URL or an absolute path.
 * @throws JobwireError `INVALID_CONFIG` for anything else.
 */
export function requireModuleUrl(module: string | URL): string {
  const url = moduleUrl(module);
  if (url === undefined) throw new JobwireError('INVALID_CONFIG', `A plugin module must be a file: URL or an absolute path, got ${String(module)}`);
  return url;
}

/**
 * A module's default export; a CJS module compiled from `export default` arrives as
 * `{ default: { default: plugin } }`, and its inner default is taken.
 */
export function defaultExport(exports: Record<string, unknown>): unknown {
  const value = exports.default;
  if (typeof value === 'object' && value !== null && !('run' in value) && 'default' in value) return (value as { default: unknown }).default;
  return value;
}

/**
 * Import a plugin module and return its default export (a CJS module's `module.exports` too).
 * @throws JobwireError `INVALID_CONFIG` when it cannot be imported or has no default export.
 */
export async function importPluginModule(url: string): Promise<unknown> {
  let exports: Record<string, unknown>;
  try {
    exports = (await import(url)) as Record<string, unknown>;
  } catch (cause) {
    throw new JobwireError('INVALID_CONFIG', `Could not import plugin module ${url}: ${messageOf(cause)}`, { cause });
  }
  const plugin = defaultExport(exports);
  if (plugin === undefined) throw new JobwireError('INVALID_CONFIG', `Plugin module ${url} has no default export (export default definePlugin({ … }))`);
  return plugin;
}

/**
 * The plugin modules of a folder as `file:` URLs, sorted by file name (not recursive).
 * @throws JobwireError `INVALID_CONFIG` when the folder cannot be read.
 */
export async function listPluginModules(dir: string | URL): Promise<string[]> {
  const url = requireModuleUrl(dir);
  const base = url.endsWith('/') ? url : `${url}/`;
  let names: string[];
  try {
    const found = await readdir(new URL(base), { withFileTypes: true });
    names = found.filter((entry) => entry.isFile() && !entry.name.startsWith('.')).map((entry) => entry.name);
  } catch (cause) {
    throw new JobwireError('INVALID_CONFIG', `Could not read the plugin folder ${base}: ${messageOf(cause)}`, { cause });
  }
  return names
    .filter((name) => MODULE_EXTENSIONS.has(extname(name)) && !DECLARATION.test(name))
    .sort()
    .map((name) => new URL(encodeURIComponent(name), base).href);
}
