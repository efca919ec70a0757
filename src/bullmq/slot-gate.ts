/**
 * A counting semaphore: at most `size` holders at once; the others wait in arrival order. The
 * BullMQ dispatcher's workers (one per queue) share one, so that a process runs at most its
 * `concurrency` jobs whatever queues they come from.
 */
export class SlotGate {
  readonly #size: number;
  #held = 0;
  readonly #waiting: (() => void)[] = [];

  constructor(size: number) {
    this.#size = size;
  }

  /** Resolves once a slot is this caller's; give it back with {@link release}. */
  acquire(): Promise<void> {
    if (this.#held < this.#size) {
      this.#held++;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next) next(); // the slot passes straight to the next waiter
    else this.#held--;
  }
}
