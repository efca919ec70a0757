import type { ScheduledJobOptions } from '../schedule/types.js';

/**
 * A schedule as the engine hands it to a {@link JobScheduler} and gets it back: checked, plain
 * JSON. Exactly one of `cron` and `everyMs` is set.
 */
export interface ScheduleRecord {
  /** The schedule's name; one schedule per key (an upsert replaces it). */
  readonly key: string;
  /** A cron pattern (5 fields, or 6 with seconds first), read by the `cron-parser` package. */
  readonly cron: string | undefined;
  /** The IANA time zone `cron` is read in. `undefined`: the process's own. */
  readonly tz: string | undefined;
  /** A fixed interval in milliseconds: the first tick comes at once, then one every `everyMs`. */
  readonly everyMs: number | undefined;
  readonly plugin: string;
  /** The input as the caller gave it: checked against the plugin's schema when scheduled, and parsed again at each tick. */
  readonly input: unknown;
  /** The submit options of each tick's job. */
  readonly options: ScheduledJobOptions;
}

/** A schedule and when it ticks next. */
export interface ScheduleState extends ScheduleRecord {
  /** Epoch ms of the next tick; `undefined` when it will not tick again. */
  readonly next: number | undefined;
}

/** One tick of a schedule: the engine submits the tick's job. */
export interface ScheduleTick {
  readonly schedule: ScheduleRecord;
  /** The time the tick was due (epoch ms): with the key, it names the tick, so a tick handed out twice submits one job. */
  readonly at: number;
}

/**
 * Keeps a deployment's schedules and says when each one ticks. In memory, timers in this process;
 * distributed, the queue's own schedulers (BullMQ job schedulers), so that a tick is handed to one
 * process of the deployment, and schedules survive restarts.
 *
 * What a scheduler guarantees (the conformance suite checks each):
 * - each tick is handed to `tick` once across every process — or again, with the same `at`, when
 *   the process it was handed to failed to handle it (the engine submits the tick's job with an
 *   idempotency key made of the schedule's key and `at`, so that a tick handed out twice makes one
 *   job);
 * - an upsert of a key replaces its schedule; an upsert of the same schedule again keeps its next tick;
 * - after `remove` resolves, the schedule ticks no more;
 * - timers never keep the process alive.
 */
export interface JobScheduler {
  /** Create or replace the schedule of `schedule.key`. */
  upsert(schedule: ScheduleRecord): Promise<void>;
  /** Delete a schedule; whether it existed. */
  remove(key: string): Promise<boolean>;
  /** Every schedule, with its next tick, by key. */
  list(): Promise<ScheduleState[]>;
  /**
   * Start handing ticks to `tick` (called once, by the engine, in processes that run jobs). A tick
   * whose `tick` call rejects is handed out again (a shared scheduler retries it; in memory, it
   * is logged and the schedule goes on).
   */
  start(tick: (tick: ScheduleTick) => Promise<void>): Promise<void>;
  /** Stop ticking here (the schedules stay for other processes, and for the next start). */
  stop(): Promise<void>;
}
