/** An item that may expire; `expiresAt` is read when it is pushed and when it is popped. */
export interface Expiring {
  readonly expiresAt: number | undefined;
}

interface Slot<T> {
  at: number;
  item: T;
}

/**
 * Min-heap of items by expiry time. Popping the expired ones costs O(expired · log n), never O(n),
 * which is what keeps the TTL sweep cheap with a million retained jobs. Items whose `expiresAt`
 * changed or that were removed meanwhile are dropped lazily when they reach the top.
 */
export class ExpiryQueue<T extends Expiring> {
  #heap: Slot<T>[] = [];
  /** The longest the heap has been since it was last right-sized. */
  #peak = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(item: T): void {
    if (item.expiresAt === undefined || !Number.isFinite(item.expiresAt)) return;
    const heap = this.#heap;
    heap.push({ at: item.expiresAt, item });
    if (heap.length > this.#peak) this.#peak = heap.length;
    let index = heap.length - 1;
    while (index > 0) {
      const parent = (index - 1) >> 1;
      if ((heap[parent] as Slot<T>).at <= (heap[index] as Slot<T>).at) break;
      [heap[parent], heap[index]] = [heap[index] as Slot<T>, heap[parent] as Slot<T>];
      index = parent;
    }
  }

  /** Remove and return (up to `limit`) the items whose slot expired at or before `now`, and that still carry that expiry. */
  popExpired(now: number, isCurrent: (item: T) => boolean, limit = Infinity): T[] {
    const expired: T[] = [];
    const heap = this.#heap;
    while (heap.length > 0 && (heap[0] as Slot<T>).at <= now && expired.length < limit) {
      const top = this.#popTop();
      if (top.item.expiresAt === top.at && isCurrent(top.item)) expired.push(top.item);
    }
    // An array keeps its capacity when it shrinks: after a big wave expired, give the memory back.
    if (this.#peak > 4_096 && heap.length * 4 < this.#peak) {
      this.#heap = heap.slice();
      this.#peak = this.#heap.length;
    }
    return expired;
  }

  clear(): void {
    this.#heap = [];
    this.#peak = 0;
  }

  #popTop(): Slot<T> {
    const heap = this.#heap;
    const top = heap[0] as Slot<T>;
    const last = heap.pop() as Slot<T>;
    if (heap.length > 0) {
      heap[0] = last;
      let index = 0;
      for (;;) {
        const left = index * 2 + 1;
        const right = left + 1;
        let smallest = index;
        if (left < heap.length && (heap[left] as Slot<T>).at < (heap[smallest] as Slot<T>).at) smallest = left;
        if (right < heap.length && (heap[right] as Slot<T>).at < (heap[smallest] as Slot<T>).at) smallest = right;
        if (smallest === index) break;
        [heap[smallest], heap[index]] = [heap[index] as Slot<T>, heap[smallest] as Slot<T>];
        index = smallest;
      }
    }
    return top;
  }
}
