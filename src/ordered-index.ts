/**
 * Items in insertion order, each with an increasing `order` number, for newest-first paging with a
 * cursor that never skips or repeats an item while new ones are added.
 *
 * Deletes leave a hole that is compacted away once holes outnumber live items, so insert and
 * delete are amortised O(1) and a page costs O(log n + items scanned).
 */
export class OrderedIndex<T extends { readonly order: number }> {
  #items: (T | undefined)[] = [];
  // Orders kept beside the items, holes included, so a cursor is found by binary search.
  #orders: number[] = [];
  #positions = new Map<number, number>();
  #holes = 0;
  #nextOrder = 1;

  /** The next `order` number to give an item. */
  takeOrder(): number {
    return this.#nextOrder++;
  }

  get size(): number {
    return this.#items.length - this.#holes;
  }

  push(item: T): void {
    this.#positions.set(item.order, this.#items.length);
    this.#items.push(item);
    this.#orders.push(item.order);
  }

  delete(item: T): void {
    const position = this.#positions.get(item.order);
    if (position === undefined) return;
    this.#positions.delete(item.order);
    this.#items[position] = undefined;
    this.#holes++;
    if (this.#holes > 1024 && this.#holes > this.#items.length / 2) this.#compact();
  }

  /**
   * Newest first, starting just below `beforeOrder` (exclusive) when given. Stops when `visit`
   * returns false.
   */
  forEachNewestFirst(beforeOrder: number | undefined, visit: (item: T) => boolean): void {
    let index = this.#items.length - 1;
    if (beforeOrder !== undefined) index = this.#lastIndexBelow(beforeOrder);
    for (; index >= 0; index--) {
      const item = this.#items[index];
      if (item !== undefined && !visit(item)) return;
    }
  }

  #lastIndexBelow(order: number): number {
    let low = 0;
    let high = this.#items.length - 1;
    let answer = -1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if ((this.#orders[mid] ?? 0) < order) {
        answer = mid;
        low = mid + 1;
      } else {
        high = mid - 1;
      }
    }
    return answer;
  }

  #compact(): void {
    const live: T[] = [];
    for (const item of this.#items) if (item !== undefined) live.push(item);
    this.#items = live;
    this.#orders = live.map((item) => item.order);
    this.#positions = new Map(live.map((item, index) => [item.order, index]));
    this.#holes = 0;
  }
}

/** Encode a position as an opaque cursor. */
export function encodeCursor(order: number): string {
  return `o${order.toString(36)}`;
}

/** Decode a cursor made by {@link encodeCursor}; `undefined` when it is not one. */
export function decodeCursor(cursor: string): number | undefined {
  if (!/^o[0-9a-z]{1,11}$/.test(cursor)) return undefined;
  const order = Number.parseInt(cursor.slice(1), 36);
  return Number.isSafeInteger(order) ? order : undefined;
}
