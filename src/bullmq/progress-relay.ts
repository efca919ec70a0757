import type { Job } from 'bullmq';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * Follows a running job's recorded progress on its BullMQ job (`job.updateProgress`, which
 * QueueEvents reports as `progress`): one update in flight at a time, reports made meanwhile
 * coalesce to the newest. Best effort: an update that fails costs that update, never the job.
 */
export class ProgressRelay {
  readonly #job: Job;
  readonly #logger: Logger;
  #pending: number | undefined;
  #sending: Promise<void> | undefined;
  /** True once any progress was reported. */
  reported = false;

  constructor(job: Job, logger: Logger) {
    this.#job = job;
    this.#logger = logger;
  }

  /** The engine recorded a progress report (bound: it is handed to the engine as a callback). */
  readonly report = (progress: number): void => {
    this.reported = true;
    this.#pending = progress;
    this.#sending ??= this.#send();
  };

  /** Resolves once no update is in flight (the job's end must not be overtaken by an earlier progress). */
  async settled(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  async #send(): Promise<void> {
    try {
      while (this.#pending !== undefined) {
        const progress = this.#pending;
        this.#pending = undefined;
        await this.#job.updateProgress(progress).catch((error: unknown) => this.#logger.debug({ jobId: this.#job.id, err: error }, `jobwire: could not show a job's progress in BullMQ: ${messageOf(error)}`));
      }
    } finally {
      this.#sending = undefined;
    }
  }
}
