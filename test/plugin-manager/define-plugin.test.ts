import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkPlugin, definePlugin } from '../../src/index.js';
import { thrownCode } from '../helpers/codes.js';

describe('definePlugin', () => {
  it('fills title and version and an empty config schema', () => {
    const plugin = definePlugin({ name: 'a.b-c_1', input: z.object({}), run: () => 1 });
    expect(plugin).toMatchObject({ name: 'a.b-c_1', title: 'a.b-c_1', version: '0.0.0' });
    expect(plugin.config.parse({})).toEqual({});
    expect(Object.isFrozen(plugin)).toBe(true);
  });

  it('refuses bad names and shapes with INVALID_CONFIG', () => {
    const run = () => 1;
    const input = z.object({});
    for (const name of ['', 'Upper', '-lead', 'has space', 'a/b', 'x'.repeat(65), '../up']) {
      expect(thrownCode(() => definePlugin({ name, input, run })), name).toBe('INVALID_CONFIG');
    }
    expect(thrownCode(() => definePlugin({ name: 'a', input: {} as never, run }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => definePlugin({ name: 'a', input, config: 5 as never, run }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => definePlugin({ name: 'a', input, run: 'no' as never }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => definePlugin({ name: 'a', input, run, concurrency: 0 }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => definePlugin({ name: 'a', input, run, timeoutMs: -1 }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => definePlugin({ name: 'a', input, run, title: 5 as never }))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => checkPlugin(null))).toBe('INVALID_CONFIG');
    expect(thrownCode(() => checkPlugin('plugin'))).toBe('INVALID_CONFIG');
  });
});
