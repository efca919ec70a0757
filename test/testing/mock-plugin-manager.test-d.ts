import { describe, expectTypeOf, it } from 'vitest';
import { MockPluginManager, type MockScript } from '../../src/testing/index.js';

describe('MockScript output', () => {
  it('takes any chunks a plugin could write, read-only', () => {
    expectTypeOf<MockScript['output']>().toEqualTypeOf<readonly unknown[] | undefined>();
    const chunks = ['token', { start: 0, text: 'segment' }, 3] as const;
    expectTypeOf(new MockPluginManager({ transcribe: { output: chunks, delayMs: 100 } })).toEqualTypeOf<MockPluginManager>();
  });
});
