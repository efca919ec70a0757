import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { z as z3 } from 'zod/v3';
import { checkPlugin, definePlugin, LocalPluginManager } from '../../src/index.js';

/** The error `fn` throws, as `{ code, message }`. */
function thrown(fn: () => unknown): { code?: unknown; message?: unknown } {
  try {
    fn();
  } catch (error) {
    return error as { code?: unknown; message?: unknown };
  }
  throw new Error('did not throw');
}

describe('jobwire needs zod 4 schemas', () => {
  // zod 3 schemas, as an app on zod 3 makes them (zod 4 ships zod 3 under zod/v3).
  const zod3 = { input: z3.object({ text: z3.string() }), config: z3.object({ model: z3.string() }) };

  it('definePlugin refuses a zod 3 schema with INVALID_CONFIG saying so', () => {
    for (const spec of [{ input: zod3.input }, { input: z.object({}), config: zod3.config }, { input: z.object({}), output: zod3.input }]) {
      const error = thrown(() => definePlugin({ name: 'old', run: () => null, ...spec } as never));
      expect(error).toMatchObject({ code: 'INVALID_CONFIG' });
      expect(error.message).toMatch(/zod 3 schema: jobwire needs zod 4 \(npm install zod@\^4/);
    }
  });

  it('checkPlugin (load, loadDirectory) and register refuse it too, before anything is registered', () => {
    const spec = { name: 'old', input: zod3.input, run: () => null };
    expect(thrown(() => checkPlugin(spec))).toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('jobwire needs zod 4') });
    const plugins = new LocalPluginManager();
    expect(thrown(() => plugins.register(spec as never))).toMatchObject({ code: 'INVALID_CONFIG', message: expect.stringContaining('jobwire needs zod 4') });
    expect(plugins.has('old')).toBe(false);
  });

  it('names what it wants for anything else that is not a zod 4 schema', () => {
    for (const input of [{ safeParse: () => ({ success: true }) }, {}, 'string']) {
      expect(thrown(() => definePlugin({ name: 'odd', input, run: () => null } as never))).toMatchObject({
        code: 'INVALID_CONFIG',
        message: expect.stringContaining("`input` must be a zod 4 schema (import { z } from 'zod')"),
      });
    }
  });

  it('takes zod 4 schemas, and registers them', () => {
    const plugin = definePlugin({ name: 'new', input: z.object({ text: z.string() }), output: z.string(), run: (input) => input.text });
    expect(new LocalPluginManager().register(plugin).getMeta('new')?.inputSchema).toMatchObject({ type: 'object' });
  });
});
