import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { JobTracker, LocalPluginManager, type RegisterOptions } from '../../src/index.js';
import { until } from '../helpers/deferred.js';
import { ISOLATION_PLUGINS, isolationPlugins } from '../helpers/isolation.js';

const fixtures = await isolationPlugins();

describe('process isolation: stderr', () => {
  let written: string[] = [];
  let spy: MockInstance<typeof process.stderr.write> | undefined;
  beforeEach(() => {
    written = [];
    // Kept, not printed: what reaches the host's stderr is what these tests look at.
    spy = vi.spyOn(process.stderr, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stderr.write);
  });
  afterEach(() => spy?.mockRestore());

  async function run(plugin: string, options: RegisterOptions, input: unknown = {}) {
    const plugins = new LocalPluginManager().register(fixtures[plugin]!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, ...options });
    const tracker = new JobTracker({ plugins });
    try {
      return await tracker.wait((await tracker.submit(plugin, input)).id);
    } finally {
      await tracker.close({ timeoutMs: 0 });
      await plugins.close();
    }
  }

  it('a stderr function takes each line with its job, and nothing reaches the host\'s stderr', async () => {
    const lines: [string, string, string][] = [];
    const done = await run('noisy', { stderr: (line, { plugin, jobId }) => void lines.push([line, plugin, jobId]) });
    expect(done.status).toBe('completed');
    await until(() => lines.length === 3, 10_000, 'the last line, flushed when the pipe closes');
    expect(lines).toEqual(['first line', 'second line', 'no line ending'].map((line) => [line, 'noisy', done.id]));
    expect(written.join('')).not.toMatch(/first line|no line ending/);
  });

  it('an out-of-memory death: the heap dump goes to the stderr function, the job says why it failed', async () => {
    const lines: string[] = [];
    const failed = await run('crash', { resourceLimits: { maxOldGenerationSizeMb: 48 }, stderr: (line) => void lines.push(line) }, { kind: 'oom' });
    expect(failed.error?.message).toMatch(/ran out of memory in its process \(limit 48 MiB\)/);
    expect(lines.join('\n')).toMatch(/FATAL ERROR.*heap out of memory|Reached heap limit/);
    expect(written.join('')).not.toMatch(/heap out of memory|Reached heap limit/);
  });

  it("'ignore' drops it; 'inherit' (the default) copies it to the host's stderr", async () => {
    expect((await run('noisy', { stderr: 'ignore' })).status).toBe('completed');
    expect((await run('noisy', {})).status).toBe('completed');
    await until(() => written.join('').includes('no line ending'), 10_000, 'the inherited output');
    expect(written.join('').match(/first line/g)).toHaveLength(1);
  });

  it('refuses anything else with INVALID_CONFIG', () => {
    const register = () => new LocalPluginManager().register(fixtures.noisy!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, stderr: 'pipe' as never });
    expect(register).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', message: expect.stringMatching(/`stderr` must be 'inherit', 'ignore' or a function/) }));
  });
});
