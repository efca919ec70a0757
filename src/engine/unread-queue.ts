/**
 * The unread items of one reader, oldest first: O(1) to add at the end, to take from the front and
 * to replace the newest; an item in between can be removed (it leaves a hole the reads skip).
 * `scan` marks how far the oldest items have been looked at for dropping, so a reader far behind
 * is never scanned from the start again.
 */
export class UnreadQueue<T> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #count = 0;
  /** Holes between `#head` and the end. */
  #holes = 0;
  /** Index of the first item a drop has not looked at yet (see {@link UnreadQueue.scan}). */
  scan = 0;
  /** Goes up each time items change slots (a squeeze, a compaction, a clear): slot numbers held elsewhere are stale then. */
  moves = 0;

  /** Items held (holes not counted). */
  get length(): number {
    return this.#count;
  }

  /** Index of the oldest slot; slots run from here to {@link end}. */
  get start(): number {
    return this.#head;
  }

  /** One past the newest slot. */
  get end(): number {
    return this.#items.length;
  }

  push(item: T): void {
    this.#items.push(item);
    this.#count++;
  }

  /** The newest item. Never a hole: an item is removed only when a newer one takes its place. */
  last(): T | undefined {
    return this.#count === 0 ? undefined : this.#items[this.#items.length - 1];
  }

  replaceLast(item: T): void {
    this.#items[this.#items.length - 1] = item;
  }

  /** The item in slot `index` (`undefined` for a hole). */
  at(index: number): T | undefined {
    return this.#items[index];
  }

  set(index: number, item: T): void {
    this.#items[index] = item;
  }

  /** Remove the item in slot `index`, leaving a hole. */
  remove(index: number): void {
    if (this.#items[index] === undefined) return;
    this.#items[index] = undefined;
    this.#count--;
    this.#holes++;
  }

  /**
   * Squeeze the holes out once they are most of the queue (a reader that never reads never takes
   * from the front, where they would go). Slots move: call it only once done with indexes.
   */
  squeezeIfSparse(): void {
    if (this.#holes > 1_024 && this.#holes * 2 > this.#items.length - this.#head) this.#squeeze();
  }

  /** Take the oldest item. */
  shift(): T | undefined {
    const items = this.#items;
    while (this.#head < items.length) {
      const item = items[this.#head];
      items[this.#head++] = undefined;
      if (item === undefined) {
        this.#holes--;
        continue;
      }
      this.#count--;
      if (this.#count === 0) this.clear();
      else if (this.#head > 1_024 && this.#head * 2 > items.length) this.#compact();
      return item;
    }
    return undefined;
  }

  clear(): void {
    this.moves++;
    this.#items = [];
    this.#head = 0;
    this.#count = 0;
    this.#holes = 0;
    this.scan = 0;
  }

  /** Drop the holes and what is before `#head`, keeping `scan` on the same item. */
  #squeeze(): void {
    this.moves++;
    const items: (T | undefined)[] = [];
    let scan = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      if (i === this.scan) scan = items.length;
      const item = this.#items[i];
      if (item !== undefined) items.push(item);
    }
    if (this.scan >= this.#items.length) scan = items.length;
    this.#items = items;
    this.#head = 0;
    this.#holes = 0;
    this.scan = scan;
  }

  #compact(): void {
    this.moves++;
    this.#items = this.#items.slice(this.#head);
    this.scan = Math.max(0, this.scan - this.#head);
    this.#head = 0;
  }
}
