import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeCursor, encodeCursor, OrderedIndex } from '../src/ordered-index.js';

describe('OrderedIndex', () => {
  it('pages newest first from a cursor, across deletes and compactions', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant('add' as const), fc.nat({ max: 5000 })), { maxLength: 4000 }), fc.nat({ max: 6000 }), (ops, cursorOrder) => {
        const index = new OrderedIndex<{ order: number }>();
        const model: { order: number }[] = [];
        for (const op of ops) {
          if (op === 'add') {
            const item = { order: index.takeOrder() };
            index.push(item);
            model.push(item);
          } else if (model.length > 0) {
            const [item] = model.splice(op % model.length, 1);
            index.delete(item!);
          }
        }
        expect(index.size).toBe(model.length);
        const seen: number[] = [];
        index.forEachNewestFirst(cursorOrder, (item) => {
          seen.push(item.order);
          return true;
        });
        expect(seen).toEqual(model.map((i) => i.order).filter((o) => o < cursorOrder).reverse());
      }),
      { numRuns: 60 },
    );
  });

  it('cursors round-trip and refuse garbage', () => {
    expect(decodeCursor(encodeCursor(123456))).toBe(123456);
    for (const bad of ['', 'o', 'x12', 'o-1', 'o1.5', 'o' + 'z'.repeat(20)]) expect(decodeCursor(bad)).toBeUndefined();
  });
});
