import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type PluginManager } from '../../src/index.js';
import { createJobRoutes } from '../../src/http/index.js';
import { MockPluginManager } from '../../src/testing/index.js';

/** The 404 message of `POST /jobs` for a plugin `manager` does not have. */
async function unknownPluginMessage(manager: PluginManager): Promise<string> {
  const tracker = new JobTracker({ plugins: manager });
  try {
    const request = new Request('http://jobs.test/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"nope","input":{}}' });
    const response = (await createJobRoutes(tracker)(request))!;
    expect(response.status).toBe(404);
    const { error } = (await response.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe('PLUGIN_NOT_FOUND');
    return error.message;
  } finally {
    await tracker.close();
  }
}

describe('an unknown plugin', () => {
  it('names the available plugins, sorted, at most 20 then "…", for LocalPluginManager and MockPluginManager', async () => {
    const many = new LocalPluginManager();
    for (let i = 24; i >= 0; i--) many.register(definePlugin({ name: `p${String(i).padStart(2, '0')}`, input: z.object({}), run: async () => null }));
    const first20 = Array.from({ length: 20 }, (_, i) => `p${String(i).padStart(2, '0')}`).join(', ');
    expect(await unknownPluginMessage(many)).toBe(`Unknown plugin "nope"; available: ${first20}, …`);
    expect(await unknownPluginMessage(new MockPluginManager({ transcribe: {}, summarize: {} }))).toBe('Unknown plugin "nope"; available: summarize, transcribe');
    expect(await unknownPluginMessage(new LocalPluginManager())).toBe('Unknown plugin "nope"; no plugins are registered');
    expect(await unknownPluginMessage(new MockPluginManager())).toBe('Unknown plugin "nope"; no plugins are registered');
  });

  it('names them in every method that looks a plugin up', async () => {
    const manager = new LocalPluginManager().register(definePlugin({ name: 'echo', input: z.object({}), run: async () => null }));
    for (const call of [() => manager.configure('ecko', {}), () => manager.enable('ecko'), () => manager.validateInput('ecko', {})]) {
      expect(call).toThrow('Unknown plugin "ecko"; available: echo');
    }
    const mock = new MockPluginManager({ echo: {} });
    expect(() => mock.validateInput('ecko', {})).toThrow('Unknown plugin "ecko"; available: echo');
  });
});
