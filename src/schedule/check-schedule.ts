import type { ScheduleRecord, ScheduleState } from '../backend/job-scheduler.js';
import { JobwireError } from '../errors.js';
import { show } from '../show.js';
import { isoTime } from '../engine/iso-time.js';
import { checkedJson, type JobLimits } from '../engine/json-limits.js';
import { checkSubmitOptions } from '../tracker/options.js';
import { nextCronTick } from './next-tick.js';
import type { ScheduleInfo, ScheduleOptions, ScheduledJobOptions } from './types.js';

const MAX_KEY_LENGTH = 256;
/** The shortest `everyMs`. */
export const MIN_EVERY_MS = 1_000;
/** The longest `everyMs`: a year. */
const MAX_EVERY_MS = 366 * 86_400_000;
const SCHEDULE_KEYS = new Set(['cron', 'tz', 'everyMs', 'plugin', 'input', 'options']);
/** Options that name or time one job: a schedule's jobs cannot take them. */
const ONE_JOB_OPTIONS = ['idempotencyKey', 'delayMs', 'runAt'];

const bad = (message: string): JobwireError => new JobwireError('INVALID_REQUEST', message);

/** True for a time zone this runtime knows (an IANA name). */
function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** A plain JSON copy of `value` (what a shared scheduler stores), checked as a submit checks it. */
function jsonCopy<T>(value: T, what: string, maxDepth: number, maxLength: number, code: 'INVALID_INPUT' | 'INVALID_REQUEST'): T {
  const text = checkedJson(value, what, maxDepth, maxLength, code);
  if (text === undefined) throw new JobwireError(code, `\`${what}\` must be JSON, got ${typeof value}`);
  return JSON.parse(text) as T;
}

/**
 * Check `tracker.schedule`'s arguments and build the schedule's record (the input is checked
 * against the plugin's schema by the caller).
 * @throws JobwireError `INVALID_REQUEST`
 */
export async function checkSchedule(key: unknown, options: ScheduleOptions, now: number, limits: JobLimits): Promise<ScheduleRecord> {
  // No control characters: a key names BullMQ job schedulers and PostgreSQL rows, which cannot hold them all.
  if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY_LENGTH || /[\u0000-\u001f\u007f]/.test(key)) {
    throw bad(`A schedule's key must be a string of 1 to ${MAX_KEY_LENGTH} characters without control characters, got ${show(key)}`);
  }
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw bad(`Schedule options must be an object like { everyMs: 60000, plugin, input }, got ${show(options)}`);
  for (const field of Object.keys(options)) if (!SCHEDULE_KEYS.has(field)) throw bad(`Unknown schedule option \`${field}\`; expected cron, tz, everyMs, plugin, input, options`);
  const { cron, tz, everyMs, plugin } = options as { cron?: unknown; tz?: unknown; everyMs?: unknown; plugin?: unknown };
  if ((cron === undefined) === (everyMs === undefined)) throw bad('A schedule needs exactly one of `cron` and `everyMs`');
  if (typeof plugin !== 'string' || plugin.length === 0) throw bad(`A schedule's \`plugin\` must be a plugin name, got ${show(plugin)}`);
  if (everyMs !== undefined && (typeof everyMs !== 'number' || !Number.isInteger(everyMs) || everyMs < MIN_EVERY_MS || everyMs > MAX_EVERY_MS)) {
    throw bad(`\`everyMs\` must be an integer from ${MIN_EVERY_MS} to ${MAX_EVERY_MS}, got ${show(everyMs)}`);
  }
  if (tz !== undefined && (typeof tz !== 'string' || cron === undefined)) throw bad('`tz` must be a time zone name, and goes with `cron`');
  if (tz !== undefined && !knownTimeZone(tz)) throw bad(`Unknown time zone ${show(tz)}: give an IANA name such as 'Europe/Paris' or 'UTC'`);
  if (cron !== undefined) {
    if (typeof cron !== 'string' || cron.length === 0 || cron.length > MAX_KEY_LENGTH) throw bad(`\`cron\` must be a cron pattern, got ${show(cron)}`);
    // cron-parser reads `H` as a random value drawn again at every reading: a schedule would tick at random times.
    if (/(?<![a-z])h(?![a-z])/i.test(cron)) throw bad(`\`cron\` cannot use the H (hash) form, which picks a new random time at every tick: give the minute or hour itself, got ${show(cron)}`);
    await nextCronTick(cron, tz, now); // throws INVALID_REQUEST for a pattern or zone it cannot read
  }
  const jobOptions: ScheduledJobOptions = options.options === undefined ? {} : jsonCopy(options.options, 'options', limits.jsonDepth, Infinity, 'INVALID_REQUEST');
  if (typeof jobOptions !== 'object' || jobOptions === null || Array.isArray(jobOptions)) throw bad(`A schedule's \`options\` must be an object, got ${show(jobOptions)}`);
  for (const field of ONE_JOB_OPTIONS) if (field in jobOptions) throw bad(`A schedule's jobs cannot take \`${field}\`: each tick submits its own job`);
  checkSubmitOptions(jobOptions);
  // Bounded as each tick's submit bounds them: a schedule whose every job would be refused is refused now.
  if (jobOptions.metadata !== undefined) checkedJson(jobOptions.metadata, 'metadata', limits.jsonDepth, limits.metadataBytes, 'INVALID_REQUEST');
  const input = options.input === undefined ? undefined : jsonCopy(options.input, 'input', limits.jsonDepth, limits.inputBytes, 'INVALID_INPUT');
  return { key, cron, tz, everyMs, plugin, input, options: jobOptions };
}

/** What `tracker.schedules()` shows of a schedule. */
export function scheduleInfo(state: ScheduleState): ScheduleInfo {
  const info: ScheduleInfo = { key: state.key, plugin: state.plugin };
  if (state.cron !== undefined) info.cron = state.cron;
  if (state.everyMs !== undefined) info.everyMs = state.everyMs;
  if (state.tz !== undefined) info.tz = state.tz;
  if (state.next !== undefined) info.next = isoTime(state.next);
  return info;
}
