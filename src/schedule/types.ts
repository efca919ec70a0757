import type { SubmitOptions } from '../tracker/types.js';

/** The submit options a schedule gives each of its jobs: every submit option but those that name or time one job. */
export type ScheduledJobOptions = Omit<SubmitOptions, 'idempotencyKey' | 'delayMs' | 'runAt'>;

/** When a schedule ticks: exactly one of a cron pattern (with its time zone) and a fixed interval. */
export type ScheduleTiming =
  | {
      /**
       * A cron pattern: 5 fields (minute hour day month weekday), or 6 with seconds first. Read by
       * the `cron-parser` package, as BullMQ's job schedulers read it (not its `H` form).
       * @example '0 3 * * *' // every day at 03:00
       */
      cron: string;
      /** The IANA time zone of `cron`. @default the process's own */
      tz?: string;
      everyMs?: never;
    }
  | {
      /** A fixed interval in milliseconds (at least 1000): the first tick comes at once, then one every `everyMs`. */
      everyMs: number;
      cron?: never;
      tz?: never;
    };

/**
 * What {@link JobTracker.schedule} takes: when (exactly one of `cron` and `everyMs`), and the job
 * each tick submits. Pass the plugin definition itself (not its name) to have `input` typed from
 * its schema.
 */
export type ScheduleOptions = ScheduleTiming & {
  /** The plugin each tick's job runs. */
  plugin: string;
  /** Its input: checked against the plugin's schema now, and parsed again at each tick. */
  input: unknown;
  /** Submit options of each tick's job. */
  options?: ScheduledJobOptions;
};

/** A schedule, as {@link JobTracker.schedules} lists it. */
export interface ScheduleInfo {
  key: string;
  cron?: string;
  everyMs?: number;
  tz?: string;
  /** ISO 8601 time of the next tick. */
  next?: string;
  plugin: string;
}
