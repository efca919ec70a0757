import type { JobwireError } from '../errors.js';
import { show } from '../show.js';
import { MAX_TIMER_MS } from '../timers.js';

/** Most tries a job may get. */
export const MAX_ATTEMPTS = 1_000;

/**
 * How long a job waits before its next try.
 *
 * - `fixed`: `delayMs` before every retry.
 * - `exponential`: `delayMs` before the 2nd try, twice that before the 3rd, and so on.
 *
 * `maxDelayMs` caps the wait; `jitter` (0..1) takes a random share of up to that fraction off each
 * wait (`jitter: 0.5` waits between half and all of it), so that many jobs failing together do not
 * retry together.
 */
export interface BackoffPolicy {
  type: 'fixed' | 'exponential';
  /** Milliseconds, from 0. */
  delayMs: number;
  /** Upper bound on one wait, in milliseconds. @default none */
  maxDelayMs?: number;
  /** 0..1. @default 0 */
  jitter?: number;
}

/**
 * How a plugin's jobs retry by default (`definePlugin({ retry })`); submit options override each field.
 *
 * A try is retried when the plugin failed (`PLUGIN_FAILED`: it threw, or its isolated worker
 * crashed) and, with `retryOnTimeout`, when it timed out. Never after a cancel, a shutdown or bad
 * input; never when the plugin threw a `NonRetryableError`.
 */
export interface RetryPolicy {
  /** Tries in all, from 1 (1 = no retry). @default 1 */
  attempts?: number;
  /** The wait before each retry. @default `{ type: 'exponential', delayMs: 1000 }` */
  backoff?: BackoffPolicy;
  /** Retry a try that hit its `timeoutMs` too. @default false */
  retryOnTimeout?: boolean;
}

/** The backoff a job gets when neither its submit nor its plugin gives one. */
export const DEFAULT_BACKOFF: Readonly<BackoffPolicy> = Object.freeze({ type: 'exponential', delayMs: 1_000 });

/** `attempts`, checked. @throws what `fail` builds */
export function checkAttempts(value: unknown, name: string, fail: (message: string) => JobwireError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_ATTEMPTS) {
    throw fail(`\`${name}\` must be an integer from 1 to ${MAX_ATTEMPTS}, got ${show(value)}`);
  }
  return value;
}

function delayField(value: unknown, name: string, fail: (message: string) => JobwireError): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > MAX_TIMER_MS) {
    throw fail(`\`${name}\` must be an integer from 0 to ${MAX_TIMER_MS}, got ${show(value)}`);
  }
  return value;
}

/** A backoff policy, checked and copied (only its known fields). @throws what `fail` builds */
export function checkBackoff(value: unknown, name: string, fail: (message: string) => JobwireError): BackoffPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`\`${name}\` must be an object like { type: 'exponential', delayMs: 1000 }, got ${show(value)}`);
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!['type', 'delayMs', 'maxDelayMs', 'jitter'].includes(key)) throw fail(`Unknown field \`${name}.${key}\`; expected type, delayMs, maxDelayMs, jitter`);
  }
  if (spec.type !== 'fixed' && spec.type !== 'exponential') throw fail(`\`${name}.type\` must be 'fixed' or 'exponential', got ${show(spec.type)}`);
  const policy: BackoffPolicy = { type: spec.type, delayMs: delayField(spec.delayMs, `${name}.delayMs`, fail) };
  if (spec.maxDelayMs !== undefined) policy.maxDelayMs = delayField(spec.maxDelayMs, `${name}.maxDelayMs`, fail);
  if (spec.jitter !== undefined) {
    const { jitter } = spec;
    if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) throw fail(`\`${name}.jitter\` must be a number from 0 to 1, got ${show(jitter)}`);
    policy.jitter = jitter;
  }
  return policy;
}

/** A plugin's `retry`, checked. @throws what `fail` builds */
export function checkRetryPolicy(value: unknown, fail: (message: string) => JobwireError): RetryPolicy {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail(`\`retry\` must be an object like { attempts: 3 }, got ${show(value)}`);
  const spec = value as Record<string, unknown>;
  for (const key of Object.keys(spec)) {
    if (!['attempts', 'backoff', 'retryOnTimeout'].includes(key)) throw fail(`Unknown field \`retry.${key}\`; expected attempts, backoff, retryOnTimeout`);
  }
  const policy: RetryPolicy = {};
  if (spec.attempts !== undefined) policy.attempts = checkAttempts(spec.attempts, 'retry.attempts', fail);
  if (spec.backoff !== undefined) policy.backoff = checkBackoff(spec.backoff, 'retry.backoff', fail);
  if (spec.retryOnTimeout !== undefined) {
    if (typeof spec.retryOnTimeout !== 'boolean') throw fail(`\`retry.retryOnTimeout\` must be a boolean, got ${show(spec.retryOnTimeout)}`);
    policy.retryOnTimeout = spec.retryOnTimeout;
  }
  return policy;
}

/**
 * The wait before the try after try number `failedAttempt` (1-based) failed.
 * @param random a source of numbers in [0, 1), for tests. @default Math.random
 */
export function backoffDelay(policy: BackoffPolicy, failedAttempt: number, random: () => number = Math.random): number {
  let delay = policy.type === 'fixed' ? policy.delayMs : policy.delayMs * 2 ** Math.max(0, failedAttempt - 1);
  if (policy.maxDelayMs !== undefined) delay = Math.min(delay, policy.maxDelayMs);
  delay = Math.min(delay, MAX_TIMER_MS);
  const jitter = policy.jitter ?? 0;
  if (jitter > 0) delay -= delay * jitter * random();
  return Math.round(delay);
}
