import { isJobwireError, JobwireError, messageOf } from '../errors.js';

/**
 * A store's failure as callers see it: a `JobwireError` as it is (`INVALID_REQUEST` for a bad
 * cursor…); anything else (a dropped connection, a database restarting) is `UNAVAILABLE`, with the
 * store's own error as `cause`.
 */
export function unavailable(error: unknown, what: string): unknown {
  return isJobwireError(error) ? error : new JobwireError('UNAVAILABLE', `The job store failed to ${what}: ${messageOf(error)}`, { cause: error });
}

interface Pending {
  readonly deadline: number;
  readonly fail: () => void;
}

/**
 * Bounds calls that may never answer (a database that is down or paused): each call rejects with
 * `UNAVAILABLE` once `timeoutMs` has passed without an answer. One timer serves every pending call,
 * armed for the oldest one, so a bound costs a set entry per call, not a timer.
 */
export class Deadlines {
  readonly #timeoutMs: number;
  readonly #pending = new Set<Pending>();
  #timer: NodeJS.Timeout | undefined;

  constructor(timeoutMs: number) {
    this.#timeoutMs = timeoutMs;
  }

  /** `call()`, or `UNAVAILABLE` naming `what` when it does not settle in time (the call itself is not undone). */
  run<T>(call: () => Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const entry: Pending = {
        deadline: Date.now() + this.#timeoutMs,
        fail: () => reject(new JobwireError('UNAVAILABLE', `The job store did not answer within ${this.#timeoutMs} ms (${what})`)),
      };
      this.#pending.add(entry);
      this.#arm();
      const settle = (): void => {
        this.#pending.delete(entry);
      };
      let started: Promise<T>;
      try {
        started = call();
      } catch (error) {
        settle();
        reject(unavailable(error, what));
        return;
      }
      started.then(
        (value) => {
          settle();
          resolve(value);
        },
        (error: unknown) => {
          settle();
          reject(unavailable(error, what));
        },
      );
    });
  }

  #arm(): void {
    if (this.#timer !== undefined) return;
    const oldest = this.#pending.values().next().value;
    if (oldest === undefined) return;
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, oldest.deadline - Date.now()));
    this.#timer.unref(); // the pending call's own connection keeps the process alive, not this timer
  }

  #expire(): void {
    this.#timer = undefined;
    const now = Date.now();
    // Calls are added in deadline order (one timeout for all), so the expired ones come first.
    for (const entry of this.#pending) {
      if (entry.deadline > now) break;
      this.#pending.delete(entry);
      entry.fail();
    }
    this.#arm();
  }
}
