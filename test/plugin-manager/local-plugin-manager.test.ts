import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, LocalPluginManager, type PluginContext } from '../../src/index.js';
import { testPluginManager } from '../../src/testing/index.js';
import { thrownCode } from '../helpers/codes.js';

const echo = definePlugin({
  name: 'echo',
  category: 'text',
  input: z.object({ text: z.string() }),
  run(input, ctx) {
    ctx.progress(50);
    return { echo: input.text };
  },
});
const fail = definePlugin({
  name: 'fail',
  input: z.unknown(),
  run() {
    throw new Error('broken');
  },
});
const off = definePlugin({ name: 'off', input: z.object({}), run: () => null });
const wait = definePlugin({
  name: 'wait',
  input: z.unknown(),
  run: (_input, ctx) => new Promise((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
});

await testPluginManager('LocalPluginManager', {
  make: () => new LocalPluginManager().register(echo).register(fail).register(off, undefined, { enabled: false }).register(wait),
});

const ctx = (): Omit<PluginContext, 'config'> => ({
  jobId: 'j',
  attempt: 1,
  signal: new AbortController().signal,
  progress: () => {},
  write: () => {},
  log: () => {},
  job: { metadata: {} },
});

describe('LocalPluginManager', () => {
  const configured = definePlugin({
    name: 'configured',
    title: 'Configured one',
    version: '2.0.0',
    description: 'uses config',
    input: z.object({ n: z.number() }),
    config: z.object({ factor: z.number().default(2), label: z.string().optional() }),
    concurrency: 2,
    timeoutMs: 1_000,
    run: (input, c) => ({ value: input.n * c.config.factor, label: c.config.label }),
  });

  it('parses config on register and configure, with defaults; bad config → INVALID_CONFIG and nothing changes', async () => {
    const manager = new LocalPluginManager().register(configured);
    expect(manager.getConfig('configured')).toEqual({ factor: 2 });
    await expect(manager.execute('configured', { n: 3 }, ctx())).resolves.toEqual({ value: 6, label: undefined });
    manager.configure('configured', { factor: 10, label: 'x' });
    await expect(manager.execute('configured', { n: 3 }, ctx())).resolves.toEqual({ value: 30, label: 'x' });
    expect(thrownCode(() => manager.configure('configured', { factor: 'lots' }))).toBe('INVALID_CONFIG');
    expect(manager.getConfig('configured')).toEqual({ factor: 10, label: 'x' });
    expect(thrownCode(() => new LocalPluginManager().register(configured, { factor: 'x' } as never))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => manager.configure('nope', {}))).toBe('PLUGIN_NOT_FOUND');
  });

  it('meta carries title, version, description, concurrency, timeout and JSON Schemas', () => {
    const meta = new LocalPluginManager().register(configured).getMeta('configured');
    expect(meta).toMatchObject({
      name: 'configured',
      title: 'Configured one',
      version: '2.0.0',
      description: 'uses config',
      enabled: true,
      concurrency: 2,
      timeoutMs: 1_000,
      inputSchema: { type: 'object', properties: { n: { type: 'number' } }, required: ['n'] },
      configSchema: { type: 'object', properties: { factor: { type: 'number', default: 2 } } },
    });
  });

  it('refuses a second plugin with the same name; unregister frees it', () => {
    const manager = new LocalPluginManager().register(echo);
    expect(thrownCode(() => manager.register(echo))).toBe('INVALID_CONFIG');
    expect(manager.unregister('echo')).toBe(true);
    expect(manager.unregister('echo')).toBe(false);
    expect(() => manager.register(echo)).not.toThrow();
  });

  it('enable / disable', () => {
    const manager = new LocalPluginManager().register(echo);
    manager.disable('echo');
    expect(thrownCode(() => manager.validateInput('echo', { text: 'x' }))).toBe('PLUGIN_DISABLED');
    expect(manager.getMeta('echo')?.enabled).toBe(false);
    manager.enable('echo');
    expect(manager.validateInput('echo', { text: 'x' })).toEqual({ text: 'x' });
    expect(thrownCode(() => manager.enable('nope'))).toBe('PLUGIN_NOT_FOUND');
  });

  it('checks the output schema when given', async () => {
    const strict = definePlugin({ name: 'strict', input: z.object({}), output: z.object({ ok: z.literal(true) }), run: () => ({ ok: false as never }) });
    const manager = new LocalPluginManager().register(strict);
    await expect(manager.execute('strict', {}, ctx())).rejects.toMatchObject({ code: 'PLUGIN_FAILED', details: [expect.objectContaining({ path: ['ok'] })] });
  });

  it('input schemas JSON cannot describe still list (as open schemas)', () => {
    const odd = definePlugin({ name: 'odd', input: z.object({ when: z.date(), n: z.string().transform(Number) }), run: () => 1 });
    const meta = new LocalPluginManager().register(odd).getMeta('odd');
    expect(meta?.inputSchema).toMatchObject({ type: 'object', properties: { when: {}, n: { type: 'string' } } });
  });
});
