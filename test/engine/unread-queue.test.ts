import { describe, expect, it } from 'vitest';
import { UnreadQueue } from '../../src/engine/unread-queue.js';

/** What a reader would take, front to back, without taking it (a copy of the queue's live items). */
function live<T>(queue: UnreadQueue<T>): T[] {
  const items: T[] = [];
  for (let i = queue.start; i < queue.end; i++) {
    const item = queue.at(i);
    if (item !== undefined) items.push(item);
  }
  return items;
}

describe('UnreadQueue', () => {
  it('takes from the front and replaces the newest in order, whatever was removed in between', () => {
    const queue = new UnreadQueue<number>();
    for (let i = 0; i < 10; i++) queue.push(i);
    queue.remove(3);
    queue.remove(4);
    queue.replaceLast(90);
    expect(queue.length).toBe(8);
    expect(live(queue)).toEqual([0, 1, 2, 5, 6, 7, 8, 90]);
    const taken: number[] = [];
    for (let item = queue.shift(); item !== undefined; item = queue.shift()) taken.push(item);
    expect(taken).toEqual([0, 1, 2, 5, 6, 7, 8, 90]);
    expect(queue.length).toBe(0);
  });

  it('a queue nobody reads does not keep its holes: they are squeezed out, and scan stays on the same item', () => {
    const queue = new UnreadQueue<number>();
    for (let i = 0; i < 10_000; i++) queue.push(i);
    // Remove most items, as drops for gaps do, with the scan past them.
    for (let i = 0; i < 9_000; i++) queue.remove(i);
    queue.scan = 9_500;
    queue.squeezeIfSparse();
    expect(queue.end - queue.start).toBe(1_000); // no slot left for a removed item
    expect(queue.at(queue.scan)).toBe(9_500);
    expect(live(queue)).toEqual(Array.from({ length: 1_000 }, (_, i) => 9_000 + i));
    expect(queue.shift()).toBe(9_000);
  });
});
