import { isJobwireError, JobwireError } from '../../errors.js';
import type { ExecuteContext, PluginManager } from '../../plugin-manager/types.js';
import { loadVitest } from './vitest-api.js';

/** The JobwireError code `fn` throws, or undefined when it does not throw. */
function thrownCode(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isJobwireError(error) ? error.code : `not a JobwireError: ${String(error)}`;
  }
  return undefined;
}

/**
 * How a PluginManager's test file plugs into the shared suite. `make` must return a manager with:
 * - `echo` (category `text`, enabled): input `{ text: string }`, resolves `{ echo: text }`, reports progress 50;
 * - `fail` (enabled): any input, rejects with Error('broken');
 * - `off` (disabled);
 * - `wait` (enabled): any input, runs until its signal aborts, then rejects with the signal's reason.
 *
 * A manager that stops plugins hard some time after an abort (isolated plugins: `cancelGraceMs`)
 * must use a grace longer than the test timeout, so that the abort test shows the plugin itself let go.
 */
export interface PluginManagerFixture {
  make(): PluginManager;
}

function context(overrides: Partial<ExecuteContext> = {}) {
  const progress: [number, string | undefined][] = [];
  const output: unknown[] = [];
  const ctx: ExecuteContext = {
    jobId: 'job-1',
    attempt: 1,
    signal: new AbortController().signal,
    progress: (percent, message) => progress.push([percent, message]),
    write: (chunk) => output.push(chunk),
    log: () => {},
    job: { tenantId: undefined, workspaceId: undefined, metadata: {} },
    ...overrides,
  };
  return { ctx, progress, output };
}

/**
 * The behaviour every PluginManager must show. Call it at the top level of a vitest test file,
 * awaited (it loads vitest, an optional peer).
 * @example
 * ```ts
 * await testPluginManager('my manager', { make: () => buildMyManagerWithTheFourPlugins() });
 * ```
 */
export async function testPluginManager(name: string, fixture: PluginManagerFixture): Promise<void> {
  const { describe, expect, it } = await loadVitest();
  describe(`plugin manager conformance: ${name}`, () => {
    it('has / getMeta / list', () => {
      const manager = fixture.make();
      expect(manager.has('echo')).toBe(true);
      expect(manager.has('off')).toBe(true);
      expect(manager.has('nope')).toBe(false);
      const meta = manager.getMeta('echo');
      expect(meta).toMatchObject({ name: 'echo', enabled: true, category: 'text' });
      expect(typeof meta?.title).toBe('string');
      expect(typeof meta?.version).toBe('string');
      expect(meta?.inputSchema).toMatchObject({ type: 'object', properties: { text: { type: 'string' } } });
      expect(typeof meta?.configSchema).toBe('object');
      expect(manager.getMeta('nope')).toBeUndefined();
      expect(manager.getMeta('off')?.enabled).toBe(false);
      expect(manager.list().map((m) => m.name).sort()).toEqual(['echo', 'fail', 'off', 'wait']);
      expect(manager.list({ category: 'text' }).map((m) => m.name)).toEqual(['echo']);
      expect(manager.list({ enabled: false }).map((m) => m.name)).toEqual(['off']);
    });

    it('meta is a copy: changing it does not change the manager', () => {
      const manager = fixture.make();
      const meta = manager.getMeta('echo')!;
      meta.enabled = false;
      meta.title = 'changed';
      expect(manager.getMeta('echo')).toMatchObject({ enabled: true });
      expect(manager.getMeta('echo')?.title).not.toBe('changed');
    });

    it('validateInput parses, or throws INVALID_INPUT / PLUGIN_NOT_FOUND / PLUGIN_DISABLED', () => {
      const manager = fixture.make();
      expect(manager.validateInput('echo', { text: 'hi' })).toEqual({ text: 'hi' });
      expect(thrownCode(() => manager.validateInput('echo', { text: 1 }))).toBe('INVALID_INPUT');
      expect(thrownCode(() => manager.validateInput('nope', {}))).toBe('PLUGIN_NOT_FOUND');
      expect(thrownCode(() => manager.validateInput('off', {}))).toBe('PLUGIN_DISABLED');
      try {
        manager.validateInput('echo', {});
      } catch (error) {
        expect(isJobwireError(error) && error.details).toEqual([expect.objectContaining({ path: ['text'], message: expect.any(String) })]);
      }
    });

    it('execute runs the plugin with the context and resolves its result', async () => {
      const manager = fixture.make();
      const { ctx, progress } = context();
      await expect(manager.execute('echo', { text: 'yo' }, ctx)).resolves.toEqual({ echo: 'yo' });
      expect(progress).toEqual([[50, undefined]]);
    });

    it('execute rejects with what the plugin threw, and PLUGIN_NOT_FOUND for unknown names', async () => {
      const manager = fixture.make();
      await expect(manager.execute('fail', {}, context().ctx)).rejects.toThrow('broken');
      await expect(manager.execute('nope', {}, context().ctx)).rejects.toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
    });

    it('an abort of ctx.signal reaches the plugin, with its reason', async () => {
      const manager = fixture.make();
      const controller = new AbortController();
      const running = manager.execute('wait', {}, context({ signal: controller.signal }).ctx);
      setTimeout(() => controller.abort(new JobwireError('CANCELLED', 'stop now')), 20);
      // A manager that stops a plugin hard after a grace (isolation) must give a grace longer than
      // the test's timeout: then only the plugin letting go of its own can settle this in time.
      await expect(running).rejects.toMatchObject({ code: 'CANCELLED', message: 'stop now' });
    });
  });
}
