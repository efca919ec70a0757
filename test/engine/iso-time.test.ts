import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/engine/iso-time.js';

describe('isoTime', () => {
  it('property: equals Date#toISOString for any time, in any order of calls', () => {
    const time = fc.oneof(fc.integer({ min: -8_640_000_000_000_000, max: 8_640_000_000_000_000 }), fc.double({ min: 0, max: 4e12, noNaN: true }));
    fc.assert(
      fc.property(fc.array(time, { minLength: 1, maxLength: 20 }), (times) => {
        for (const ms of times) expect(isoTime(ms)).toBe(new Date(ms).toISOString());
      }),
      { numRuns: 500 },
    );
  });
});
