import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkPlugin, definePlugin, isJobwireError, JobTracker, LocalPluginManager } from '../../src/index.js';
import { codeOf } from '../helpers/codes.js';
import { ISOLATION_PLUGINS } from '../helpers/isolation.js';

const DIR = new URL('../fixtures/plugin-dir/', import.meta.url);
const file = (name: string) => new URL(name, DIR).href;

describe('LocalPluginManager.loadDirectory', () => {
  const managers: LocalPluginManager[] = [];
  const manager = () => {
    const plugins = new LocalPluginManager();
    managers.push(plugins);
    return plugins;
  };
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((plugins) => plugins.close()));
  });

  it('registers every good module in file-name order and reports each broken one as a typed error', async () => {
    const plugins = manager();
    const { loaded, failed } = await plugins.loadDirectory(DIR, { configs: { 'dir-upper': { suffix: '!' } } });
    expect(loaded).toEqual(['dir-echo', 'dir-upper', 'dir-cjs']);
    expect(plugins.list().map((meta) => meta.name)).toEqual(loaded);

    const byFile = Object.fromEntries(failed.map(({ module, error }) => [module.slice(DIR.href.length), error]));
    expect(Object.keys(byFile).sort()).toEqual(['broken-syntax.mjs', 'c-duplicate.mjs', 'e-needs-config.mjs', 'no-default.mjs', 'not-a-plugin.mjs', 'throws.mjs']);
    for (const [name, error] of Object.entries(byFile)) {
      expect(isJobwireError(error) && error.code, name).toBe('INVALID_CONFIG');
      expect(error.message, name).toContain(file(name));
    }
    expect(byFile['c-duplicate.mjs']!.message).toMatch(/"dir-echo" is already registered/);
    expect(byFile['e-needs-config.mjs']!.message).toMatch(/Invalid config for plugin "dir-needs-config"/);
    expect(byFile['no-default.mjs']!.message).toMatch(/no default export/);
    expect(byFile['not-a-plugin.mjs']!.message).toMatch(/name must match/);
    expect(byFile['throws.mjs']!.message).toMatch(/cannot start without a GPU/);
  });

  it('plugins from a folder run as they declare: thread isolation needs no module of its own', async () => {
    const plugins = manager();
    await plugins.loadDirectory(DIR, { configs: { 'dir-upper': { suffix: '?' } } });
    expect(plugins.getMeta('dir-echo')?.isolation).toBe('thread');
    expect(plugins.getMeta('dir-upper')?.isolation).toBeUndefined();
    const tracker = new JobTracker({ plugins });
    try {
      const echoed = await tracker.wait((await tracker.submit('dir-echo', { text: 'hi' })).id);
      expect(echoed.result).toMatchObject({ echo: 'hi', threadId: expect.any(Number) });
      expect((echoed.result as { threadId: number }).threadId).toBeGreaterThan(0);
      const upper = await tracker.wait((await tracker.submit('dir-upper', { text: 'hi' })).id);
      expect(upper.result).toEqual({ text: 'HI?' });
      const cjs = await tracker.wait((await tracker.submit('dir-cjs', {})).id);
      expect(cjs.result).toEqual({ format: 'cjs' });
    } finally {
      await tracker.close();
    }
  });

  it('register options apply to every plugin of the folder', async () => {
    const plugins = manager();
    const { loaded } = await plugins.loadDirectory(DIR, { register: { enabled: false, isolation: 'process' } });
    expect(loaded.length).toBeGreaterThan(0);
    for (const meta of plugins.list()) expect(meta).toMatchObject({ enabled: false, isolation: 'process' });
  });

  it('a folder that cannot be read, or is not given as an absolute path or file: URL, is INVALID_CONFIG', async () => {
    expect(await codeOf(manager().loadDirectory(new URL('./no-such-folder/', DIR)))).toBe('INVALID_CONFIG');
    expect(await codeOf(manager().loadDirectory('relative/plugins'))).toBe('INVALID_CONFIG');
    expect(await codeOf(manager().loadDirectory('https://example.com/plugins/'))).toBe('INVALID_CONFIG');
  });
});

describe('LocalPluginManager.load', () => {
  it('imports one module, registers its default export with config and options, and returns its name', async () => {
    const plugins = new LocalPluginManager();
    expect(await plugins.load(new URL('b-upper.mjs', DIR), { suffix: '.' }, { enabled: false })).toBe('dir-upper');
    expect(plugins.getMeta('dir-upper')?.enabled).toBe(false);
    expect(plugins.getConfig('dir-upper')).toEqual({ suffix: '.' });
  });

  it('a broken module is INVALID_CONFIG naming the module, and nothing is registered', async () => {
    const plugins = new LocalPluginManager();
    for (const name of ['throws.mjs', 'no-default.mjs', 'not-a-plugin.mjs', 'missing.mjs']) {
      const error = await plugins.load(new URL(name, DIR)).catch((thrown: unknown) => thrown);
      expect(isJobwireError(error) && error.code, name).toBe('INVALID_CONFIG');
      expect((error as Error).message, name).toContain(name);
    }
    expect(plugins.list()).toEqual([]);
  });
});

describe('isolation settings', () => {
  const echo = { name: 'echo', input: z.object({}), run: () => null };

  it('an isolated plugin whose module is unknown or missing is refused at register', () => {
    const plugin = definePlugin({ name: 'needs-module', isolation: 'thread', input: z.object({}), run: () => null });
    const error = (() => {
      try {
        new LocalPluginManager().register(plugin);
      } catch (thrown) {
        return thrown;
      }
      return undefined;
    })();
    expect(isJobwireError(error) && error.code).toBe('INVALID_CONFIG');
    expect((error as Error).message).toMatch(/module: import\.meta\.url/);
    expect(() => new LocalPluginManager().register(plugin, undefined, { module: new URL('missing.mjs', DIR) })).toThrow(/does not exist/);
    expect(() => new LocalPluginManager().register(plugin, undefined, { module: ISOLATION_PLUGINS })).not.toThrow();
    expect(() => new LocalPluginManager().register(plugin, undefined, { isolation: 'inline' })).not.toThrow();
  });

  it.each([
    [{ isolation: 'fiber' }, /`isolation` must be one of 'inline', 'thread', 'process'/],
    [{ module: './relative.js' }, /`module` must be a file: URL or an absolute path/],
    [{ module: 'https://example.com/x.js' }, /`module` must be a file: URL/],
    [{ cancelGraceMs: -1 }, /`cancelGraceMs` must be an integer >= 0/],
    [{ cancelGraceMs: 1.5 }, /`cancelGraceMs`/],
    [{ resourceLimits: { maxOldGenerationSizeMb: 0 } }, /maxOldGenerationSizeMb/],
    [{ resourceLimits: 'small' }, /`resourceLimits` must be an object/],
  ])('definePlugin and register refuse %j with INVALID_CONFIG', (setting, message) => {
    expect(() => checkPlugin({ ...echo, ...setting })).toThrow(message);
    const plugin = checkPlugin(echo);
    expect(() => new LocalPluginManager().register(plugin, undefined, setting as never)).toThrow(message);
  });
});
