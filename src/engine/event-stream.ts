import type { JobEvent } from '../job.js';

/** How an {@link EventStream} reads the items it buffers. */
export interface EventStreamSource<T> {
  /** Turn a buffered item into the event handed out. */
  build(item: T): JobEvent;
  /** Progress items may be coalesced: a newer one replaces an older one not yet read. */
  isProgress(item: T): boolean;
  /** The stream ends after handing out a terminal item. */
  isTerminal(item: T): boolean;
  /** Called once when the stream ends for any reason: unsubscribe here. */
  onClose(stream: EventStream<T>): void;
}

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/**
 * The async iterator behind `tracker.events()`: replay then live, ends after the terminal event,
 * `return()` or an aborted signal unsubscribes at once and ends it (`done`, no rejection).
 *
 * The buffer for a consumer that reads slower than events arrive stays bounded: a progress event
 * not yet read is replaced by a newer one; status events are always kept.
 */
export class EventStream<T> implements AsyncIterableIterator<JobEvent> {
  readonly #source: EventStreamSource<T>;
  #buffer: T[] = [];
  #waiter: { resolve: (result: IteratorResult<JobEvent>) => void; reject: (error: unknown) => void } | undefined;
  #ending = false;
  #closed = false;
  #error: unknown;
  #hasError = false;
  #signal: AbortSignal | undefined;
  readonly #onAbort = (): void => {
    void this.return();
  };

  constructor(source: EventStreamSource<T>, signal?: AbortSignal) {
    this.#source = source;
    if (signal) {
      if (signal.aborted) {
        this.#close();
      } else {
        this.#signal = signal;
        signal.addEventListener('abort', this.#onAbort, { once: true });
      }
    }
  }

  /** A stream whose first `next()` rejects with `error`. */
  static failed(error: unknown): EventStream<never> {
    const stream = new EventStream<never>({
      build: () => {
        throw error;
      },
      isProgress: () => false,
      isTerminal: () => true,
      onClose: () => {},
    });
    stream.#error = error;
    stream.#hasError = true;
    return stream;
  }

  /** True once the stream has ended or been closed. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Add an item (from the replay or live). Ignored after the terminal item or close. */
  push(item: T): void {
    if (this.#closed || this.#ending) return;
    if (this.#source.isTerminal(item)) this.#ending = true;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      waiter.resolve(this.#deliver(item));
      return;
    }
    const last = this.#buffer.length - 1;
    if (last >= 0 && this.#source.isProgress(item) && this.#source.isProgress(this.#buffer[last] as T)) {
      this.#buffer[last] = item;
    } else {
      this.#buffer.push(item);
    }
  }

  /** End with an error: the pending or next `next()` rejects with it. */
  fail(error: unknown): void {
    if (this.#closed) return;
    const waiter = this.#waiter;
    if (waiter) {
      this.#waiter = undefined;
      this.#close();
      waiter.reject(error);
      return;
    }
    this.#buffer = [];
    this.#error = error;
    this.#hasError = true;
  }

  /** No more items will come: end once the buffer is read. */
  end(): void {
    if (this.#closed) return;
    this.#ending = true;
    if (this.#buffer.length === 0) this.#finish();
  }

  next(): Promise<IteratorResult<JobEvent>> {
    if (this.#hasError) {
      this.#hasError = false;
      this.#close();
      return Promise.reject(this.#error);
    }
    const item = this.#buffer.shift();
    if (item !== undefined) {
      try {
        return Promise.resolve(this.#deliver(item));
      } catch (error) {
        this.#close();
        return Promise.reject(error);
      }
    }
    if (this.#closed || this.#ending) {
      this.#close();
      return Promise.resolve({ done: true, value: undefined });
    }
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<JobEvent>> {
    this.#buffer = [];
    this.#close();
    return Promise.resolve({ done: true, value: undefined });
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  async [asyncDispose](): Promise<void> {
    await this.return();
  }

  #deliver(item: T): IteratorResult<JobEvent> {
    const event = this.#source.build(item);
    if (this.#ending && this.#buffer.length === 0) this.#close();
    return { done: false, value: event };
  }

  #finish(): void {
    const waiter = this.#waiter;
    this.#close();
    if (waiter) waiter.resolve({ done: true, value: undefined });
  }

  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (this.#signal) {
      this.#signal.removeEventListener('abort', this.#onAbort);
      this.#signal = undefined;
    }
    this.#source.onClose(this);
    waiter?.resolve({ done: true, value: undefined });
  }
}
