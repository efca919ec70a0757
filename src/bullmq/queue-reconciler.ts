import type { JobRecord } from '../backend/job-record.js';
import type { RecordPage } from '../backend/job-store.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';

/** Queued jobs checked per round: what one round costs (a read of that many records, and a look-up of each in BullMQ). */
const PAGE = 200;

/** A job missing from BullMQ is cancelled only once seen missing in two rounds (a submit on PostgreSQL stores its record just before its queue entry). */
const SIGHTINGS = 2;

/** What a reconciler needs. */
export interface ReconcilerSetup {
  /** Time between rounds. */
  intervalMs: number;
  /** A page of `queued` jobs, every tenant's. */
  listQueued(cursor: string | undefined, limit: number): Promise<RecordPage>;
  /** Whether the BullMQ job that carries `record` still exists (in any state). */
  exists(record: JobRecord): Promise<boolean>;
  /** The engine cancels the job with `reason` if it is still `queued`. */
  vanished(id: string, reason: string): void;
  logger: Logger;
}

/** Why a job whose BullMQ job is gone is cancelled. */
export const VANISHED_REASON = 'Removed from its BullMQ queue (removed, cleaned or obliterated there): nothing would run it';

/**
 * Finds `queued` jobs whose BullMQ job is gone — removed, cleaned or obliterated with BullMQ's own
 * tools, which jobwire does not hear of one by one (`clean` and `obliterate` say nothing per job) —
 * and has the engine cancel them, so that no job stays `queued` with nothing to run it. Each round
 * reads one page of queued jobs (going on from the last round's page, starting over at the end) and
 * looks each up in BullMQ; a job seen missing is looked up again next round before it is cancelled.
 * Bounded cost: {@link PAGE} records per round, per worker process.
 */
export class QueueReconciler {
  readonly #setup: ReconcilerSetup;
  #cursor: string | undefined;
  /** Jobs seen missing, by id: the record and how many rounds saw it missing. */
  readonly #suspects = new Map<string, { record: JobRecord; seen: number }>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  #soon = false;
  #stopped = false;

  constructor(setup: ReconcilerSetup) {
    this.#setup = setup;
  }

  start(): void {
    this.#arm(this.#setup.intervalMs);
  }

  /** Run a round soon (BullMQ said jobs were cleaned), unless one is due anyway. */
  soon(): void {
    if (this.#soon || this.#stopped) return;
    this.#soon = true;
    this.#arm(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round;
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#soon = false;
      this.#round = this.round()
        .catch((error: unknown) => this.#setup.logger.warn({ err: error }, `jobwire: could not check queued jobs against BullMQ: ${messageOf(error)}`))
        .finally(() => {
          this.#round = undefined;
          this.#arm(this.#setup.intervalMs);
        });
    }, ms);
    this.#timer.unref();
  }

  /** One round: the jobs seen missing last time, then the next page of queued jobs. */
  async round(): Promise<void> {
    const page = await this.#setup.listQueued(this.#cursor, PAGE);
    this.#cursor = page.nextCursor;
    const checked = new Map<string, JobRecord>();
    for (const { record } of this.#suspects.values()) checked.set(record.id, record);
    for (const record of page.records) checked.set(record.id, record);
    const found = await Promise.all([...checked.values()].map(async (record) => [record, await this.#setup.exists(record)] as const));
    for (const [record, exists] of found) {
      const suspect = this.#suspects.get(record.id);
      if (exists) {
        this.#suspects.delete(record.id);
        continue;
      }
      const seen = (suspect?.seen ?? 0) + 1;
      if (seen < SIGHTINGS) {
        this.#suspects.set(record.id, { record, seen });
        continue;
      }
      this.#suspects.delete(record.id);
      this.#setup.vanished(record.id, VANISHED_REASON);
    }
  }
}
