/**
 * A counting semaphore: at most `size` holders at once; the others wait in arrival order. The
 * BullMQ dispatcher's workers (one per queue) share one, so that a process runs at most its
 * `concurrency` jobs whatever queues they come from.
 */
export class SlotGate {
  readonly #size: number;
  #held = 0;
  readonly #waiting: ((granted: boolean) => void)[] = [];
  #closed = false;

  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Resolves `true` once a slot is this caller's (give it back with {@link release}), or `false`
   * when {@link wakeAll} sent it away without one — at once for a caller that comes after it.
   */
  acquire(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#held < this.#size) {
      this.#held++;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next(true); // the slot passes straight to the next waiter
    else this.#held--;
  }

  /**
   * Every waiter resolves `false` now, holding no slot, and so does every later caller (the
   * dispatcher is stopping: a job BullMQ fetched just before, whose processor starts only now, must
   * not wait for a slot a running job holds, but go back to its queue at once).
   */
  wakeAll(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(false);
  }
}
