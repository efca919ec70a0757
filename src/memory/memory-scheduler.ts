import type { JobScheduler, ScheduleRecord, ScheduleState, ScheduleTick } from '../backend/job-scheduler.js';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import { nextTick } from '../schedule/next-tick.js';
import { whenDue } from '../timers.js';

/** One schedule held here, and the timer of its next tick. */
interface Entry {
  schedule: ScheduleRecord;
  /** Epoch ms of the next tick; undefined when it will not tick again. */
  next: number | undefined;
  /** Cancels the wait for the next tick, while one is armed. */
  cancelWait: (() => void) | undefined;
}

/** Two records of the same schedule (an upsert of one of them keeps the other's next tick). */
function sameSchedule(a: ScheduleRecord, b: ScheduleRecord): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** Two schedules that tick at the same times. */
function sameTiming(a: ScheduleRecord, b: ScheduleRecord): boolean {
  return a.cron === b.cron && a.tz === b.tz && a.everyMs === b.everyMs;
}

/**
 * Schedules in this process's memory, ticked by timers on the tracker's clock. Timers are unref'd
 * (a schedule never keeps the process alive) and stop with the tracker; schedules do not outlive
 * the process. An `everyMs` schedule ticks at once, then every `everyMs`, as BullMQ's `every` does.
 */
export class MemoryScheduler implements JobScheduler {
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  readonly #logger: Logger;
  #tick: ((tick: ScheduleTick) => Promise<void>) | undefined;

  constructor(now: () => number, logger: Logger) {
    this.#now = now;
    this.#logger = logger;
  }

  async upsert(schedule: ScheduleRecord): Promise<void> {
    const existing = this.#entries.get(schedule.key);
    if (existing && sameSchedule(existing.schedule, schedule)) return;
    const now = this.#now();
    // Same timing, new job: the next tick stays where it was. New timing: an interval starts now, a cron at its next time.
    const next = existing && sameTiming(existing.schedule, schedule) ? existing.next : schedule.everyMs !== undefined ? now : await nextTick(schedule, now);
    this.#entries.get(schedule.key)?.cancelWait?.(); // this one, or another upsert's landed while the next tick was computed
    const entry: Entry = { schedule, next, cancelWait: undefined };
    this.#entries.set(schedule.key, entry);
    this.#arm(entry);
  }

  remove(key: string): Promise<boolean> {
    const entry = this.#entries.get(key);
    if (!entry) return Promise.resolve(false);
    entry.cancelWait?.();
    this.#entries.delete(key);
    return Promise.resolve(true);
  }

  list(): Promise<ScheduleState[]> {
    return Promise.resolve([...this.#entries.values()].map(({ schedule, next }) => ({ ...schedule, next })));
  }

  start(tick: (tick: ScheduleTick) => Promise<void>): Promise<void> {
    this.#tick = tick;
    for (const entry of this.#entries.values()) this.#arm(entry);
    return Promise.resolve();
  }

  stop(): Promise<void> {
    this.#tick = undefined;
    for (const entry of this.#entries.values()) {
      entry.cancelWait?.();
      entry.cancelWait = undefined;
    }
    return Promise.resolve();
  }

  /** Wait for `entry`'s next tick (once started); a schedule never keeps the process alive. */
  #arm(entry: Entry): void {
    entry.cancelWait?.();
    entry.cancelWait = undefined;
    if (!this.#tick || entry.next === undefined) return;
    entry.cancelWait = whenDue(entry.next, this.#now, () => void this.#fire(entry));
  }

  async #fire(entry: Entry): Promise<void> {
    const tick = this.#tick;
    const at = entry.next;
    if (!tick || at === undefined || this.#entries.get(entry.schedule.key) !== entry) return;
    // The next tick comes after this one and after now: ticks missed while the process slept are skipped, not piled up.
    try {
      entry.next = await nextTick(entry.schedule, Math.max(at, this.#now() - (entry.schedule.everyMs ?? 0)));
    } catch (error) {
      entry.next = undefined;
      this.#logger.error({ schedule: entry.schedule.key, err: error }, `jobwire: schedule "${entry.schedule.key}" cannot tick again: ${messageOf(error)}`);
    }
    if (this.#entries.get(entry.schedule.key) === entry) this.#arm(entry);
    try {
      await tick({ schedule: entry.schedule, at });
    } catch (error) {
      this.#logger.error({ schedule: entry.schedule.key, err: error }, `jobwire: schedule "${entry.schedule.key}" could not submit its job: ${messageOf(error)}`);
    }
  }
}
