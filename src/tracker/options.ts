import { show } from '../show.js';
import { MAX_TIMER_MS } from '../timers.js';
import { JobwireError } from '../errors.js';
import { JOB_STATUSES, type JobMetadata, type JobStatus } from '../job.js';
import { checkAttempts, checkBackoff, type BackoffPolicy } from '../retry/retry-policy.js';
import { normalizeLimit } from '../storage/query.js';
import type { StoreListQuery } from '../backend/job-store.js';
import { DEFAULT_JOB_LIMITS, type JobLimits } from '../engine/json-limits.js';
import type { EngineSettings } from '../engine/types.js';
import type { JobTrackerOptions, ListQuery, SubmitOptions } from './types.js';

const MAX_ID_LENGTH = 256;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function badRequest(message: string): JobwireError {
  return new JobwireError('INVALID_REQUEST', message);
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ID_LENGTH) {
    throw badRequest(`\`${name}\` must be a string of 1 to ${MAX_ID_LENGTH} characters, got ${show(value)}`);
  }
  return value;
}

/** Every option `submit` takes (the HTTP submit route accepts the same fields beside `plugin` and `input`). */
export const SUBMIT_OPTION_KEYS: ReadonlySet<string> = new Set(['tenantId', 'workspaceId', 'priority', 'timeoutMs', 'metadata', 'idempotencyKey', 'attempts', 'backoff', 'retryOnTimeout', 'delayMs', 'runAt']);

/** The latest `runAt` accepted: year 9999. */
const MAX_RUN_AT = Date.UTC(9999, 11, 31);

/** The longest `delayMs`: ten years. */
const MAX_DELAY_MS = 10 * 366 * 86_400_000;

/** True for an ISO date whose day exists in its month (Date.parse rolls 2031-02-30 over to March). */
function realDay(iso: string): boolean {
  const [year, month, day] = iso.slice(0, 10).split('-').map(Number) as [number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate();
}

/** `runAt` as epoch ms. @throws JobwireError `INVALID_REQUEST` */
function checkRunAt(value: unknown): number {
  let time: number;
  if (value instanceof Date) time = value.getTime();
  else if (typeof value === 'number') time = Number.isInteger(value) ? value : NaN;
  // An ISO time needs its offset: one without would be read in whatever zone this process runs in.
  else if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i.test(value) && realDay(value)) time = Date.parse(value);
  else time = NaN;
  if (!(time >= 0 && time <= MAX_RUN_AT)) {
    throw badRequest(`\`runAt\` must be an ISO 8601 date-time with its offset (like 2030-01-01T22:00:00Z), epoch milliseconds, or a Date; got ${show(value)}`);
  }
  return time;
}

/** Checked submit options. @throws JobwireError `INVALID_REQUEST`. */
export interface CheckedSubmitOptions {
  tenantId: string | undefined;
  workspaceId: string | undefined;
  priority: number;
  timeoutMs: number | undefined;
  metadata: JobMetadata;
  idempotencyKey: string | undefined;
  attempts: number | undefined;
  backoff: BackoffPolicy | undefined;
  retryOnTimeout: boolean | undefined;
  /** Relative delay (the engine adds its clock). */
  delayMs: number | undefined;
  /** Absolute start time, epoch ms. */
  runAt: number | undefined;
}

/** Check and default submit options. @throws JobwireError `INVALID_REQUEST` */
export function checkSubmitOptions(options: SubmitOptions | undefined): CheckedSubmitOptions {
  if (options === undefined) {
    return { ...NO_OPTIONS, metadata: {} };
  }
  if (!isPlainObject(options)) throw badRequest(`Submit options must be an object, got ${show(options)}`);
  for (const key of Object.keys(options)) if (!SUBMIT_OPTION_KEYS.has(key)) throw badRequest(`Unknown submit option \`${key}\``);
  const { priority = 0, timeoutMs, metadata = {} } = options;
  if (typeof priority !== 'number' || !Number.isFinite(priority)) throw badRequest(`\`priority\` must be a finite number, got ${show(priority)}`);
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMER_MS)) {
    throw badRequest(`\`timeoutMs\` must be an integer from 1 to ${MAX_TIMER_MS}, got ${show(timeoutMs)}`);
  }
  if (!isPlainObject(metadata)) throw badRequest(`\`metadata\` must be a plain object, got ${show(metadata)}`);
  const { delayMs, retryOnTimeout } = options;
  if (delayMs !== undefined && (typeof delayMs !== 'number' || !Number.isInteger(delayMs) || delayMs < 0 || delayMs > MAX_DELAY_MS)) {
    throw badRequest(`\`delayMs\` must be an integer from 0 to ${MAX_DELAY_MS} (ten years), got ${show(delayMs)}`);
  }
  if (delayMs !== undefined && options.runAt !== undefined) throw badRequest('Give `delayMs` or `runAt`, not both');
  if (retryOnTimeout !== undefined && typeof retryOnTimeout !== 'boolean') throw badRequest(`\`retryOnTimeout\` must be a boolean, got ${show(retryOnTimeout)}`);
  return {
    tenantId: optionalString(options.tenantId, 'tenantId'),
    workspaceId: optionalString(options.workspaceId, 'workspaceId'),
    priority,
    timeoutMs,
    metadata,
    idempotencyKey: optionalString(options.idempotencyKey, 'idempotencyKey'),
    attempts: options.attempts === undefined ? undefined : checkAttempts(options.attempts, 'attempts', badRequest),
    backoff: options.backoff === undefined ? undefined : checkBackoff(options.backoff, 'backoff', badRequest),
    retryOnTimeout,
    delayMs,
    runAt: options.runAt === undefined ? undefined : checkRunAt(options.runAt),
  };
}

const NO_OPTIONS: CheckedSubmitOptions = Object.freeze({
  tenantId: undefined,
  workspaceId: undefined,
  priority: 0,
  timeoutMs: undefined,
  metadata: {},
  idempotencyKey: undefined,
  attempts: undefined,
  backoff: undefined,
  retryOnTimeout: undefined,
  delayMs: undefined,
  runAt: undefined,
});

const STATUS_SET = new Set<string>(JOB_STATUSES);

/** A checked list query (the engine adds its clock). */
export type CheckedListQuery = Omit<StoreListQuery, 'now'>;

/** Check a list query. @throws JobwireError `INVALID_REQUEST` */
export function checkListQuery(query: ListQuery | undefined): CheckedListQuery {
  const q = query ?? {};
  if (!isPlainObject(q)) throw badRequest(`List query must be an object, got ${show(q)}`);
  let statuses: Set<JobStatus> | undefined;
  if (q.status !== undefined) {
    const list: readonly unknown[] = Array.isArray(q.status) ? q.status : [q.status];
    for (const status of list) {
      if (typeof status !== 'string' || !STATUS_SET.has(status)) throw badRequest(`Unknown status ${show(status)}; expected one of ${JOB_STATUSES.join(', ')}`);
    }
    statuses = new Set(list as JobStatus[]);
  }
  if (q.cursor !== undefined && typeof q.cursor !== 'string') throw badRequest('`cursor` must be a string');
  return {
    tenantId: optionalString(q.tenantId, 'tenantId'),
    workspaceId: optionalString(q.workspaceId, 'workspaceId'),
    plugin: optionalString(q.plugin, 'plugin'),
    statuses,
    limit: normalizeLimit(q.limit),
    cursor: q.cursor,
  };
}

function invalidConfig(message: string): JobwireError {
  return new JobwireError('INVALID_CONFIG', message);
}

function positiveCount(value: unknown, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < (allowZero ? 0 : 1)) {
    throw invalidConfig(`\`${name}\` must be ${allowZero ? 'a non-negative' : 'a positive'} integer or Infinity, got ${show(value)}`);
  }
  return value;
}

function delay(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_TIMER_MS) {
    throw invalidConfig(`\`${name}\` must be an integer from 1 to ${MAX_TIMER_MS}, got ${show(value)}`);
  }
  return value;
}

function checkLimits(limits: unknown): JobLimits {
  if (limits === undefined) return DEFAULT_JOB_LIMITS;
  if (!isPlainObject(limits)) throw invalidConfig(`\`limits\` must be an object, got ${show(limits)}`);
  const checked: JobLimits = { ...DEFAULT_JOB_LIMITS };
  for (const [key, value] of Object.entries(limits)) {
    if (!(key in DEFAULT_JOB_LIMITS)) throw invalidConfig(`Unknown limit \`${key}\`; expected one of ${Object.keys(DEFAULT_JOB_LIMITS).join(', ')}`);
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalidConfig(`\`limits.${key}\` must be a positive integer, got ${show(value)}`);
    checked[key as keyof JobLimits] = value;
  }
  // JSON.stringify itself recurses: deeper than about a thousand levels it overflows the stack.
  if (checked.jsonDepth > 1_000) throw invalidConfig(`\`limits.jsonDepth\` must be at most 1000, got ${checked.jsonDepth}`);
  return checked;
}

/** `outputLimitBytes`: a positive safe integer (a store passes it to Redis or PostgreSQL as a number). */
function outputLimit(value: unknown): number {
  if (value === undefined) return 1_048_576;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw invalidConfig(`\`outputLimitBytes\` must be a positive integer, got ${show(value)}`);
  return value;
}

/** Check tracker options and fill defaults. @throws JobwireError `INVALID_CONFIG` */
export function checkTrackerOptions(options: JobTrackerOptions): EngineSettings {
  if (!isPlainObject(options) && (typeof options !== 'object' || options === null)) throw invalidConfig('JobTracker needs an options object');
  const { plugins } = options;
  if (typeof plugins?.validateInput !== 'function' || typeof plugins.execute !== 'function' || typeof plugins.getMeta !== 'function') {
    throw invalidConfig('JobTracker needs `plugins`: a PluginManager (e.g. new LocalPluginManager())');
  }
  const ttlMs = options.ttlMs ?? 3_600_000;
  if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) throw invalidConfig(`\`ttlMs\` must be a non-negative number or Infinity, got ${show(ttlMs)}`);
  const statsWindowMs = options.statsWindowMs ?? 300_000;
  if (typeof statsWindowMs !== 'number' || !Number.isInteger(statsWindowMs) || statsWindowMs < 1_000 || statsWindowMs > 7 * 86_400_000) {
    throw invalidConfig(`\`statsWindowMs\` must be an integer from 1000 to ${7 * 86_400_000}, got ${show(statsWindowMs)}`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw invalidConfig('`now` must be a function returning milliseconds');
  if (options.backend !== undefined && typeof (options.backend as { open?: unknown } | null)?.open !== 'function') {
    throw invalidConfig('`backend` must be a JobBackend (an object with `open(host)`), e.g. new BullMQBackend({ … }) from jobwire/bullmq');
  }
  return {
    concurrency: positiveCount(options.concurrency, 'concurrency', 5),
    maxQueued: positiveCount(options.maxQueued, 'maxQueued', Infinity, true),
    ttlMs,
    sweepIntervalMs: delay(options.sweepIntervalMs, 'sweepIntervalMs', 300_000),
    statsWindowMs,
    storeTimeoutMs: delay(options.storeTimeoutMs, 'storeTimeoutMs', 5_000),
    saveTimeoutMs: delay(options.saveTimeoutMs, 'saveTimeoutMs', 10_000),
    limits: checkLimits(options.limits),
    outputLimitBytes: outputLimit(options.outputLimitBytes),
  };
}
