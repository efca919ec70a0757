import type { Job, JobSchedulerJson, Queue, RepeatOptions } from 'bullmq';
import type { JobScheduler, ScheduleRecord, ScheduleState, ScheduleTick } from '../backend/job-scheduler.js';
import { JobwireError, messageOf } from '../errors.js';
import type { Logger } from '../logger.js';
import type { BullMQDispatcher } from './bullmq-dispatcher.js';

/**
 * The name of the schedules' tick jobs in the deployment's main queue. No plugin can bear it
 * (plugin names have no `:`), so a tick job is never taken for a plugin's job.
 */
export const TICK_JOB_NAME = 'jobwire:schedule-tick';

/**
 * What a tick job carries: its schedule as JSON text (BullMQ on PostgreSQL keeps data as jsonb,
 * which cannot hold every string a schedule's input may).
 */
export interface TickJobData {
  schedule: string;
}

/**
 * BullMQ's options for every tick job: first in line (a tick takes a worker of the main queue for
 * a moment, and no slot of the process's `concurrency`; while every worker of the main queue is
 * busy it waits, then goes before any job); a tick whose job could not be submitted is tried again
 * (1 s, 2 s, 4 s, 8 s later), then kept among the failed (the last 100) for inspection.
 */
const TICK_JOB_OPTIONS = {
  priority: 1,
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: true,
  removeOnFail: { count: 100 },
} as const;

/** Runs `work` holding a lock named `key` across the deployment's processes. */
export type ExclusiveRunner = (key: string, work: () => Promise<void>) => Promise<void>;

/** Whether a BullMQ job is a schedule's tick. */
export function isTickJob(job: Pick<Job, 'name'>): boolean {
  return job.name === TICK_JOB_NAME;
}

/** Whether a BullMQ job id is a schedule's tick job's: BullMQ names them `repeat:<key>:<due ms>`, and no jobwire job id has a `:`. */
export function isTickJobId(id: string): boolean {
  return id.startsWith('repeat:');
}

/** The schedule a tick job (or its scheduler's template) carries; `undefined` when it carries none readable. */
function carriedSchedule(data: unknown): ScheduleRecord | undefined {
  const text = (data as Partial<TickJobData> | undefined)?.schedule;
  if (typeof text !== 'string') return undefined;
  try {
    const schedule = JSON.parse(text) as ScheduleRecord;
    return typeof schedule === 'object' && schedule !== null && typeof schedule.key === 'string' && typeof schedule.plugin === 'string' ? schedule : undefined;
  } catch {
    return undefined;
  }
}

/**
 * When a tick was due (epoch ms): the time in its job id (`repeat:<key>:<due ms>`), which names the
 * tick — the same however many times the job is handed out. Failing that, its job's own due time.
 */
function tickTime(job: Job): number {
  const due = Number(job.id?.slice(job.id.lastIndexOf(':') + 1));
  return Number.isSafeInteger(due) && due > 0 ? due : job.timestamp + (job.delay ?? 0);
}

/**
 * BullMQ's repeat options of a schedule: a cron pattern (in its time zone) or a fixed interval.
 * @throws JobwireError `INVALID_REQUEST` for a schedule with neither.
 */
function repeatOf(schedule: ScheduleRecord): Omit<RepeatOptions, 'key'> {
  if (schedule.cron !== undefined) return schedule.tz === undefined ? { pattern: schedule.cron } : { pattern: schedule.cron, tz: schedule.tz };
  if (schedule.everyMs === undefined) throw new JobwireError('INVALID_REQUEST', `The schedule ${JSON.stringify(schedule.key)} has neither cron nor everyMs`);
  return { every: schedule.everyMs };
}

/** Whether BullMQ's scheduler already is this schedule: same timing, same job. */
function sameSchedule(current: JobSchedulerJson, repeat: Omit<RepeatOptions, 'key'>, data: TickJobData): boolean {
  return (
    current.name === TICK_JOB_NAME &&
    current.pattern === repeat.pattern &&
    current.every === repeat.every &&
    current.tz === repeat.tz &&
    (current.template?.data as Partial<TickJobData> | undefined)?.schedule === data.schedule
  );
}

/**
 * A deployment's schedules as BullMQ job schedulers on its main queue: BullMQ keeps each schedule
 * and its next tick job (in its delayed set, in the database), so schedules survive restarts and
 * each tick is fetched by one worker process. There the dispatcher routes the tick job here, and
 * the engine submits the tick's job; a tick whose submit fails is tried again by BullMQ, with the
 * same tick time.
 *
 * Every process can upsert, list and remove schedules (a producer too); only processes that run
 * jobs tick (the engine starts the scheduler there).
 */
export class BullMQScheduler implements JobScheduler {
  readonly #dispatcher: BullMQDispatcher;
  readonly #logger: Logger;
  readonly #exclusive: ExclusiveRunner;

  /**
   * @param exclusive runs an upsert holding a lock of its key across the deployment's processes,
   * where BullMQ's own upsert is not atomic (PostgreSQL); by default, runs it as it is.
   */
  constructor(dispatcher: BullMQDispatcher, logger: Logger, exclusive: ExclusiveRunner = (_key, work) => work()) {
    this.#dispatcher = dispatcher;
    this.#logger = logger;
    this.#exclusive = exclusive;
  }

  /**
   * Create or replace the key's job scheduler. The same schedule upserted again (say, by every
   * process of a deployment at its start) changes nothing, so its next tick stays. The same timing
   * (cron and time zone, or everyMs) with a new input or new options keeps the next tick too, and
   * adds none: BullMQ replaces the waiting tick job with one at the same time (an interval's next
   * time is kept; a cron's next time after now is that same time), and the tick reads the schedule
   * as it is when it runs. A new timing starts over: an interval ticks at once, a cron at its next
   * time.
   */
  async upsert(schedule: ScheduleRecord): Promise<void> {
    const queue = this.#dispatcher.mainQueue();
    const data: TickJobData = { schedule: JSON.stringify(schedule) };
    const repeat = repeatOf(schedule);
    // Where BullMQ's upsert is not atomic (PostgreSQL), two processes upserting a new schedule at
    // once would each make a first tick: they take turns, and the second finds it done.
    await this.#exclusive(schedule.key, async () => {
      const current = await currentScheduler(queue, schedule.key);
      if (current && sameSchedule(current, repeat, data)) return;
      await queue.upsertJobScheduler(schedule.key, repeat, { name: TICK_JOB_NAME, data, opts: TICK_JOB_OPTIONS });
    });
  }

  /** Remove the key's job scheduler and its next tick job. A tick already due is dropped where it is fetched. */
  async remove(key: string): Promise<boolean> {
    return this.#dispatcher.mainQueue().removeJobScheduler(key);
  }

  /** The schedules of the main queue's job schedulers, by key, with BullMQ's next tick time. */
  async list(): Promise<ScheduleState[]> {
    const schedulers = await this.#dispatcher.mainQueue().getJobSchedulers(0, -1, true);
    const states = schedulers.flatMap((scheduler): ScheduleState[] => {
      const schedule = scheduler.name === TICK_JOB_NAME ? carriedSchedule(scheduler.template?.data) : undefined;
      return schedule ? [{ ...schedule, next: scheduler.next }] : [];
    });
    return states.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Handle the tick jobs this process's worker fetches from now on. */
  start(tick: (tick: ScheduleTick) => Promise<void>): Promise<void> {
    this.#dispatcher.routeTicks((job) => this.#handle(job, tick));
    return Promise.resolve();
  }

  /** Handle tick jobs here no more: those fetched from now on wait for a process that ticks. */
  stop(): Promise<void> {
    this.#dispatcher.routeTicks(undefined);
    return Promise.resolve();
  }

  /**
   * One tick job: unless its schedule was removed since (BullMQ removes only the next tick job
   * still delayed, not one already due), hand the tick to the engine, with the schedule as it is
   * now. A rejection goes back to BullMQ, which tries the tick again.
   */
  async #handle(job: Job, tick: (tick: ScheduleTick) => Promise<void>): Promise<void> {
    const key = job.repeatJobKey ?? carriedSchedule(job.data)?.key;
    if (key === undefined) {
      this.#logger.warn({ jobId: job.id }, 'jobwire: a schedule tick job names no schedule; dropped');
      return;
    }
    const current = await currentScheduler(this.#dispatcher.mainQueue(), key);
    if (!current) return; // removed: it ticks no more
    const schedule = carriedSchedule(current.template?.data) ?? carriedSchedule(job.data);
    if (!schedule) {
      this.#logger.warn({ jobId: job.id, schedule: key }, `jobwire: the schedule ${JSON.stringify(key)} carries no readable schedule; its tick is dropped`);
      return;
    }
    try {
      await tick({ schedule, at: tickTime(job) });
    } catch (error) {
      const tries = `try ${job.attemptsMade + 1} of ${job.opts.attempts ?? 1}`;
      this.#logger.warn({ jobId: job.id, schedule: key, err: error }, `jobwire: a tick of the schedule ${JSON.stringify(key)} failed (${tries}): ${messageOf(error)}`);
      throw error;
    }
  }
}

/**
 * BullMQ's job scheduler of a key, or `undefined` when there is none. (BullMQ reports a missing key
 * shaped like a legacy repeatable job's as an error: that, too, is none.)
 */
async function currentScheduler(queue: Queue, key: string): Promise<JobSchedulerJson | undefined> {
  try {
    return await queue.getJobScheduler(key);
  } catch (error) {
    if (/legacy repeatable job/i.test(messageOf(error))) return undefined;
    throw error;
  }
}
