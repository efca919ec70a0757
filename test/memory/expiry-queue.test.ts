import { describe, expect, it } from 'vitest';
import { ExpiryQueue } from '../../src/memory/expiry-queue.js';

describe('ExpiryQueue (the TTL sweep)', () => {
  it('pops exactly the expired items, in expiry order, whatever the push order', () => {
    const queue = new ExpiryQueue<{ expiresAt: number; id: number }>();
    const items = [50, 10, 40, 20, 30, 60].map((expiresAt, id) => ({ expiresAt, id }));
    for (const item of items) queue.push(item);
    expect(queue.popExpired(35, () => true).map((i) => i.expiresAt)).toEqual([10, 20, 30]);
    expect(queue.popExpired(35, () => true)).toEqual([]);
    expect(queue.size).toBe(3);
  });

  it('drops items removed meanwhile or whose expiry changed', () => {
    const queue = new ExpiryQueue<{ expiresAt: number | undefined; gone?: boolean }>();
    const removed = { expiresAt: 1, gone: true };
    const moved = { expiresAt: 2 as number | undefined };
    queue.push(removed);
    queue.push(moved);
    queue.push({ expiresAt: undefined });
    moved.expiresAt = 100;
    expect(queue.popExpired(10, (item) => !item.gone)).toEqual([]);
    expect(queue.size).toBe(0);
  });

  it('looks only at expired items: the cost does not grow with the retained count', () => {
    for (const retained of [1_000, 100_000]) {
      const queue = new ExpiryQueue<{ expiresAt: number }>();
      for (let i = 0; i < retained; i++) queue.push({ expiresAt: 1_000_000 + i });
      for (let i = 0; i < 100; i++) queue.push({ expiresAt: i });
      let visited = 0;
      const expired = queue.popExpired(1_000, () => {
        visited++;
        return true;
      });
      expect(expired).toHaveLength(100);
      expect(visited).toBe(100);
      expect(queue.size).toBe(retained);
    }
  });
});
