import { JobwireError, messageOf } from '../errors.js';
import type { ScheduleRecord } from '../backend/job-scheduler.js';

type CronParser = typeof import('cron-parser').CronExpressionParser;
let parser: CronParser | undefined;

/** cron-parser, loaded on first use: a tracker without cron schedules never loads it. */
async function cronParser(): Promise<CronParser> {
  parser ??= (await import('cron-parser')).CronExpressionParser;
  return parser;
}

/**
 * The first tick of a cron pattern strictly after `after` (epoch ms), in `tz`; `undefined` when it
 * never ticks again.
 * @throws JobwireError `INVALID_REQUEST` for a pattern or time zone cron-parser cannot read.
 */
export async function nextCronTick(cron: string, tz: string | undefined, after: number): Promise<number | undefined> {
  const Parser = await cronParser();
  try {
    const expression = Parser.parse(cron, tz === undefined ? { currentDate: new Date(after) } : { currentDate: new Date(after), tz });
    if (!expression.hasNext()) return undefined;
    return expression.next().getTime();
  } catch (error) {
    throw new JobwireError('INVALID_REQUEST', `Invalid cron schedule ${JSON.stringify(cron)}${tz === undefined ? '' : ` in time zone ${JSON.stringify(tz)}`}: ${messageOf(error)}`, { cause: error });
  }
}

/**
 * When a schedule ticks next after `after` (epoch ms): its next cron time, or `after + everyMs`.
 * @throws JobwireError `INVALID_REQUEST` for a cron pattern or time zone that cannot be read.
 */
export function nextTick(schedule: Pick<ScheduleRecord, 'cron' | 'tz' | 'everyMs'>, after: number): Promise<number | undefined> {
  if (schedule.cron !== undefined) return nextCronTick(schedule.cron, schedule.tz, after);
  return Promise.resolve(after + (schedule.everyMs ?? 0));
}
