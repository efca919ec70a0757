import type { JobEvent } from '../job.js';
import { UnreadQueue } from './unread-queue.js';

/** How an {@link EventStream} reads the items it buffers. */
export interface EventStreamSource<T> {
  /** Turn a buffered item into the event handed out. */
  build(item: T): JobEvent;
  /** Progress items may be coalesced: a newer one replaces an older one not yet read. */
  isProgress(item: T): boolean;
  /** The stream ends after handing out a terminal item. */
  isTerminal(item: T): boolean;
  /**
   * Adjacent items merged into one (string output chunks of one append, or of any when the reader
   * is `lagging`), or `undefined` when they are not mergeable.
   */
  merge?(older: T, newer: T, lagging: boolean): T | undefined;
  /** True for an item that may be merged with the ones right after it: a waiting reader gets it a microtask later, with them. */
  mergeable?(item: T): boolean;
  /**
   * What an output item costs a reader that holds it unread (its chunk's size and a fixed share for
   * the item itself), `undefined` for any other item: what {@link EventStreamSource.limitBytes} bounds.
   */
  outputSize?(item: T): number | undefined;
  /** True for a gap item (two gaps with only coalesced progress between them become one). */
  isGap?(item: T): boolean;
  /** The item that stands for a dropped output item: a gap, merged with `before` when that is a gap already. */
  gap?(dropped: T, before: T | undefined): { item: T; mergedWithBefore: boolean };
  /** Most bytes of unread output held; past it the oldest unread output becomes a gap. @default Infinity */
  limitBytes?: number;
  /** Called once when the stream ends for any reason: unsubscribe here. */
  onClose(stream: EventStream<T>): void;
}

/**
 * Unread items a reader holds before adjacent string output chunks of different appends are merged
 * for it: a reader that keeps up (reads what a tick brings before the next) gets each tick's
 * strings as written; one that lags gets the same text in fewer events.
 */
export const MERGE_AFTER = 256;

const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/**
 * The async iterator behind `tracker.events()`: replay then live, ends after the terminal event,
 * `return()` or an aborted signal unsubscribes at once and ends it (`done`, no rejection).
 *
 * The buffer for a consumer that reads slower than events arrive stays bounded: a progress event
 * not yet read is replaced by a newer one (past {@link MERGE_AFTER} unread items, also with output
 * between them, which stays where it was); past {@link MERGE_AFTER} unread items, adjacent string
 * output chunks are merged into one; past
 * `limitBytes` of unread output, the oldest is dropped for a gap; status events are always kept.
 */
export class EventStream<T> implements AsyncIterableIterator<JobEvent> {
  readonly #source: EventStreamSource<T>;
  readonly #buffer = new UnreadQueue<T>();
  /** Bytes of output in the buffer. */
  #unreadBytes = 0;
  /**
   * The unread progress items and their slots (an entry is checked by identity before use: reads
   * and squeezes move slots). Once the reader lags, a newer progress removes them all even with
   * output in between, so it holds one progress however a plugin mixes writes and progress reports.
   */
  #progress: { item: T; at: number }[] = [];
  /** The buffer's `moves` when {@link EventStream.#progress}'s slots were right. */
  #progressMoves = 0;
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
    const source = this.#source;
    const waiter = this.#waiter;
    const buffer = this.#buffer;
    if (waiter) {
      if (buffer.length === 0 && source.mergeable?.(item)) {
        // The rest of its append arrives in this same turn: hand the reader all of it at once.
        buffer.push(item);
        this.#unreadBytes += source.outputSize?.(item) ?? 0;
        queueMicrotask(this.#handOver);
        return;
      }
      if (buffer.length === 0) {
        this.#waiter = undefined;
        waiter.resolve(this.#deliver(item));
        return;
      }
    }
    if (source.isProgress(item)) {
      this.#pushProgress(item);
      return;
    }
    const size = source.outputSize?.(item);
    const previous = buffer.last();
    if (previous !== undefined) {
      const merged = size === undefined ? undefined : source.merge?.(previous, item, buffer.length >= MERGE_AFTER);
      if (merged !== undefined) {
        buffer.replaceLast(merged);
        this.#unreadBytes += (source.outputSize?.(merged) ?? 0) - (source.outputSize?.(previous) ?? 0);
        if (this.#unreadBytes > (source.limitBytes ?? Infinity)) this.#dropOutput();
        return;
      }
    }
    buffer.push(item);
    if (size === undefined) return;
    this.#unreadBytes += size;
    if (this.#unreadBytes > (source.limitBytes ?? Infinity)) this.#dropOutput();
  }

  /**
   * Buffer a progress item: in place of an unread progress right before it; and once the reader lags
   * ({@link MERGE_AFTER} unread), in place of every unread progress, wherever it is. Output read
   * later stays before it; a reader that keeps up sees each report between the writes around it.
   */
  #pushProgress(item: T): void {
    const buffer = this.#buffer;
    const unread = this.#unreadProgress();
    const newest = unread.at(-1);
    if (newest !== undefined && newest.at === buffer.end - 1) {
      buffer.replaceLast(item);
      newest.item = item;
      this.#progress = unread;
      return;
    }
    if (buffer.length >= MERGE_AFTER && unread.length > 0) {
      for (const { at } of unread) {
        buffer.remove(at);
        this.#mergeGapsAround(at);
      }
      unread.length = 0;
      buffer.squeezeIfSparse();
    }
    buffer.push(item);
    unread.push({ item, at: buffer.end - 1 });
    this.#progress = unread;
    this.#progressMoves = buffer.moves;
  }

  /** The unread progress items and their slots now: found again when the buffer moved its items. */
  #unreadProgress(): { item: T; at: number }[] {
    const buffer = this.#buffer;
    if (this.#progress.length === 0) return [];
    if (this.#progressMoves !== buffer.moves) {
      const held = new Set(this.#progress.map(({ item }) => item));
      const found: { item: T; at: number }[] = [];
      for (let at = buffer.start; at < buffer.end && found.length < held.size; at++) {
        const item = buffer.at(at);
        if (item !== undefined && held.has(item)) found.push({ item, at });
      }
      this.#progressMoves = buffer.moves;
      return found;
    }
    return this.#progress.filter(({ item, at }) => at >= buffer.start && at < buffer.end && buffer.at(at) === item);
  }

  /** A hole at `at` between two gaps (a coalesced progress): the two become one. */
  #mergeGapsAround(at: number): void {
    const source = this.#source;
    const gapFor = source.gap;
    if (!gapFor || !source.isGap) return;
    const buffer = this.#buffer;
    const before = this.#kept(at, -1);
    const after = this.#kept(at, 1);
    if (before === undefined || after === undefined) return;
    const older = buffer.at(before) as T;
    const newer = buffer.at(after) as T;
    if (!source.isGap(older) || !source.isGap(newer)) return;
    buffer.remove(before);
    buffer.set(after, gapFor(newer, older).item);
  }

  /**
   * The slot of the nearest item from `at` in `direction`, past the holes. A run of holes is left by
   * a gap that grew over the output after it, or by coalesced progress; the buffer squeezes them out
   * once they are most of it, so a scan costs what the holes cost, no more.
   */
  #kept(at: number, direction: 1 | -1): number | undefined {
    const buffer = this.#buffer;
    for (let i = at + direction; i >= buffer.start && i < buffer.end; i += direction) {
      if (buffer.at(i) !== undefined) return i;
    }
    return undefined;
  }

  /** A waiting reader gets the first buffered item (a string chunk, merged with the rest of its append). */
  readonly #handOver = (): void => {
    const waiter = this.#waiter;
    if (!waiter || this.#closed) return;
    const item = this.#take();
    if (item === undefined) return;
    this.#waiter = undefined;
    try {
      waiter.resolve(this.#deliver(item));
    } catch (error) {
      this.#close();
      waiter.reject(error);
    }
  };

  /** The oldest unread item, taken off the buffer. */
  #take(): T | undefined {
    const item = this.#buffer.shift();
    if (item !== undefined && this.#unreadBytes > 0) this.#unreadBytes -= this.#source.outputSize?.(item) ?? 0;
    return item;
  }

  /**
   * Past `limitBytes` of unread output: drop the oldest output items, each for a gap (merged with
   * the gap before it). The scan goes on from where the last drop stopped: O(1) per item dropped.
   */
  #dropOutput(): void {
    const source = this.#source;
    const gapFor = source.gap;
    if (!gapFor) return;
    const buffer = this.#buffer;
    const limit = source.limitBytes ?? Infinity;
    let i = Math.max(buffer.scan, buffer.start);
    for (; i < buffer.end && this.#unreadBytes > limit; i++) {
      const item = buffer.at(i);
      if (item === undefined) continue;
      const size = source.outputSize?.(item);
      if (size === undefined) continue;
      this.#unreadBytes -= size;
      // The item before, past the holes left by coalesced progress and by the gap that grew to here.
      const at = this.#kept(i, -1);
      const before = at === undefined ? undefined : buffer.at(at);
      const { item: gap, mergedWithBefore } = gapFor(item, before);
      if (mergedWithBefore && at !== undefined) buffer.remove(at);
      buffer.set(i, gap);
    }
    buffer.scan = i;
    buffer.squeezeIfSparse();
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
    this.#buffer.clear();
    this.#progress = [];
    this.#unreadBytes = 0;
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
    const item = this.#take();
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
    this.#buffer.clear();
    this.#progress = [];
    this.#unreadBytes = 0;
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
