import { describe, expect, it } from 'vitest';
import { SlotGate } from '../../src/bullmq/slot-gate.js';

describe('SlotGate', () => {
  it('grants up to its size, then hands each freed slot to the next waiter in order', async () => {
    const gate = new SlotGate(1);
    expect(await gate.acquire()).toBe(true);
    const order: number[] = [];
    const second = gate.acquire().then((granted) => order.push(2) && granted);
    const third = gate.acquire().then((granted) => order.push(3) && granted);
    gate.release();
    expect(await second).toBe(true);
    gate.release();
    expect(await third).toBe(true);
    expect(order).toEqual([2, 3]);
  });

  it('wakeAll sends every waiter away without a slot, and every caller after it too', async () => {
    const gate = new SlotGate(1);
    expect(await gate.acquire()).toBe(true); // a running job holds the one slot
    const waiting = gate.acquire();
    gate.wakeAll();
    expect(await waiting).toBe(false);
    // A job fetched just before the stop whose processor starts only now: sent away at once, not
    // left waiting for the running job's slot.
    const late = await Promise.race([gate.acquire(), new Promise<'waits'>((resolve) => setImmediate(() => resolve('waits')))]);
    expect(late).toBe(false);
  });
});
