import type { JobRecord } from '../backend/job-record.js';
import type { RecordPage } from '../backend/job-store.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';

/** Queued jobs checked per round: what one round costs (a read of that many records, and a look-up of each in BullMQ). */
const PAGE = 200;

/**
 * The least time a job must have been missing from BullMQ before it is cancelled, whatever the
 * interval: a submit whose queue entry is not added in its record's statement (on Redis; on
 * PostgreSQL with a BullMQ whose `add_job` this release does not know) stores its record just
 * before its queue entry, and the late enqueue of an idempotent submit tries that again.
 */
const MIN_MISSING_MS = 5_000;

/** What a reconciler needs. */
export interface ReconcilerSetup {
  /** Time between rounds; a job is cancelled once missing that long (at least {@link MIN_MISSING_MS}). */
  intervalMs: number;
  /** A page of `queued` jobs, every tenant's. */
  listQueued(cursor: string | undefined, limit: number): Promise<RecordPage>;
  /** Whether the BullMQ job that carries `record` still exists (in any state). */
  exists(record: JobRecord): Promise<boolean>;
  /** The engine cancels the job with `reason` if it is still `queued`. */
  vanished(id: string, reason: string): void;
  /** Run first in each round: what BullMQ's tools may have undone and is cheap to set again (the plugins' caps). */
  beforeRound?(): Promise<void>;
  logger: Logger;
}

/** Why a job whose BullMQ job is gone is cancelled. */
export const VANISHED_REASON = 'Removed from its BullMQ queue (removed, cleaned or obliterated there): nothing would run it';

/**
 * Finds `queued` jobs whose BullMQ job is gone — removed, cleaned or obliterated with BullMQ's own
 * tools, which jobwire does not hear of one by one (`clean` and `obliterate` say nothing per job) —
 * and has the engine cancel them, so that no job stays `queued` with nothing to run it. Each round
 * reads one page of queued jobs (going on from the last round's page, starting over at the end) and
 * looks each up in BullMQ; a job seen missing is looked up again in the next rounds, and cancelled
 * once it has been missing for the interval (at least {@link MIN_MISSING_MS}) — however soon the
 * rounds come. One round at a time: one asked for meanwhile starts after it.
 * Bounded cost: {@link PAGE} records per round, per worker process.
 */
export class QueueReconciler {
  readonly #setup: ReconcilerSetup;
  readonly #missingForMs: number;
  #cursor: string | undefined;
  /** Jobs seen missing, by id: the record and when it was first seen missing. */
  readonly #suspects = new Map<string, { record: JobRecord; since: number }>();
  #timer: NodeJS.Timeout | undefined;
  #round: Promise<void> | undefined;
  /** A round was asked for while one ran: it starts once that one ends. */
  #again = false;
  #stopped = false;

  constructor(setup: ReconcilerSetup) {
    this.#setup = setup;
    this.#missingForMs = Math.max(setup.intervalMs, MIN_MISSING_MS);
  }

  start(): void {
    this.#arm(this.#setup.intervalMs);
  }

  /** Run a round soon (BullMQ said jobs were cleaned): now, or once the round under way ends. */
  soon(): void {
    if (this.#stopped) return;
    if (this.#round) this.#again = true;
    else this.#arm(0);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#round;
  }

  #arm(ms: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#run(), ms);
    this.#timer.unref();
  }

  #run(): void {
    if (this.#round) {
      this.#again = true;
      return;
    }
    this.#round = this.#check()
      .catch((error: unknown) => this.#setup.logger.warn({ err: error }, `jobwire: could not check queued jobs against BullMQ: ${messageOf(error)}`))
      .finally(() => {
        this.#round = undefined;
        const again = this.#again;
        this.#again = false;
        this.#arm(again ? 0 : this.#setup.intervalMs);
      });
  }

  /** One round: the jobs seen missing before, then the next page of queued jobs. */
  async #check(): Promise<void> {
    await this.#setup.beforeRound?.().catch((error: unknown) => this.#setup.logger.warn({ err: error }, `jobwire: could not set the plugins' caps in BullMQ again: ${messageOf(error)}`));
    const page = await this.#setup.listQueued(this.#cursor, PAGE);
    this.#cursor = page.nextCursor;
    const checked = new Map<string, JobRecord>();
    for (const { record } of this.#suspects.values()) checked.set(record.id, record);
    for (const record of page.records) checked.set(record.id, record);
    const found = await Promise.all([...checked.values()].map(async (record) => [record, await this.#setup.exists(record)] as const));
    const now = Date.now();
    for (const [record, exists] of found) {
      const suspect = this.#suspects.get(record.id);
      if (exists) {
        this.#suspects.delete(record.id);
        continue;
      }
      if (!suspect || now - suspect.since < this.#missingForMs) {
        if (!suspect) this.#suspects.set(record.id, { record, since: now });
        continue;
      }
      this.#suspects.delete(record.id);
      this.#setup.vanished(record.id, VANISHED_REASON);
    }
  }
}
