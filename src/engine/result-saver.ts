import { JobwireError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ResultStorage, StoredResult } from '../storage/types.js';
import type { StorageFailedEvent } from '../tracker/types.js';

/** Waits before the 2nd, 3rd and 4th tries of a failed save. */
export const SAVE_RETRY_DELAYS_MS: readonly number[] = [200, 1_000, 5_000];

/**
 * Saves completed results. The first try is awaited (the job is announced `completed` after it);
 * a failed save is reported and retried in the background, so a storage outage never loses a job
 * nor keeps it `running`. A save that does not settle within `timeoutMs` counts as failed: a
 * storage that hangs delays a job's completion by that long at most.
 */
export class ResultSaver {
  readonly #storage: ResultStorage;
  readonly #logger: Logger;
  readonly #report: (event: StorageFailedEvent) => void;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, { record: StoredResult; attempt: number; timer: NodeJS.Timeout }>();

  constructor(storage: ResultStorage, logger: Logger, report: (event: StorageFailedEvent) => void, timeoutMs: number) {
    this.#storage = storage;
    this.#logger = logger;
    this.#report = report;
    this.#timeoutMs = timeoutMs;
  }

  /** First try. Resolves true when saved; false when it failed (a retry is then scheduled). */
  async save(record: StoredResult): Promise<boolean> {
    return this.#attempt(record, 1);
  }

  /** Best-effort delete of a result saved for a job that ended otherwise meanwhile. */
  async discard(jobId: string): Promise<void> {
    try {
      await this.#withinTimeout(() => this.#storage.delete(jobId));
    } catch (error) {
      this.#logger.warn({ jobId, err: error }, 'jobwire: could not delete the result of a job cancelled while saving');
    }
  }

  /** On shutdown: run every scheduled retry now, once. */
  async flush(): Promise<void> {
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    await Promise.all(
      pending.map(({ record, attempt, timer }) => {
        clearTimeout(timer);
        return this.#attempt(record, attempt, false);
      }),
    );
  }

  async #attempt(record: StoredResult, attempt: number, mayRetry = true): Promise<boolean> {
    try {
      await this.#withinTimeout(() => this.#storage.save(record));
      return true;
    } catch (cause) {
      const delay = mayRetry ? SAVE_RETRY_DELAYS_MS[attempt - 1] : undefined;
      const error = new JobwireError('STORAGE_FAILED', `Could not save the result of job ${record.jobId}: ${messageOf(cause)}`, { cause });
      this.#logger.error({ jobId: record.jobId, attempt, willRetry: delay !== undefined, err: cause }, 'jobwire: result save failed');
      this.#report({ jobId: record.jobId, error, attempt, willRetry: delay !== undefined });
      if (delay !== undefined) {
        const timer = setTimeout(() => {
          this.#pending.delete(record.jobId);
          void this.#attempt(record, attempt + 1);
        }, delay);
        timer.unref();
        this.#pending.set(record.jobId, { record, attempt: attempt + 1, timer });
      }
      return false;
    }
  }

  /** Run a storage call, or reject once `timeoutMs` passed (the call itself may still finish later). */
  async #withinTimeout(call: () => Promise<unknown>): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the storage did not answer within ${this.#timeoutMs} ms`)), this.#timeoutMs);
    });
    try {
      await Promise.race([Promise.resolve().then(call), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }
}
