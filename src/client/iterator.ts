/** `Symbol.asyncDispose` where the runtime has it (`await using`), else a stand-in symbol. */
const asyncDispose: typeof Symbol.asyncDispose = Symbol.asyncDispose ?? Symbol.for('Symbol.asyncDispose');

/** An async iterator that `return()` (a `break`), `await using` or a signal ends at once. */
export interface CancellableIterator<T> extends AsyncIterableIterator<T> {
  return(): Promise<IteratorResult<T, undefined>>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Run `start` as an async iterator that can be ended at any moment: `return()` or an abort of
 * `signal` aborts the signal `start` gets (its fetch stops, its waits end) and then finishes the
 * generator, even while a `next()` is pending; that `next()` then resolves `done`.
 */
export function cancellable<T>(start: (signal: AbortSignal) => AsyncGenerator<T, void>, signal?: AbortSignal): CancellableIterator<T> {
  const controller = new AbortController();
  const abort = (): void => controller.abort();
  const end = (): void => {
    signal?.removeEventListener('abort', abort);
    abort();
  };
  if (signal?.aborted) abort();
  else signal?.addEventListener('abort', abort, { once: true });
  const generator = start(controller.signal);
  const iterator: CancellableIterator<T> = {
    next: () =>
      generator.next().then(
        (result) => {
          if (result.done) end();
          return result;
        },
        (error: unknown) => {
          end();
          throw error;
        },
      ),
    async return() {
      end();
      await generator.return();
      return { done: true, value: undefined };
    },
    [Symbol.asyncIterator]: () => iterator,
    async [asyncDispose]() {
      await iterator.return();
    },
  };
  return iterator;
}
