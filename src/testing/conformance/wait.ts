import { isStatusEvent, type JobEvent, type JobStatusEvent } from '../../job.js';

/** A promise with its resolve/reject handles. */
export interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

export function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** Deferreds by key, each made on first use: a test opens a plugin's gate by the key its job was given. */
export function keyedDeferreds<T = void>(): (key: string) => Deferred<T> {
  const byKey = new Map<string, Deferred<T>>();
  return (key) => {
    let entry = byKey.get(key);
    if (!entry) byKey.set(key, (entry = deferred<T>()));
    return entry;
  };
}

/** Real-time sleep. */
export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Poll `check` until it returns true (real time), failing after `timeoutMs`. The suites wait for
 * states, never for durations; the bound is generous because it only matters when something is wrong.
 */
export async function until(check: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`Timed out waiting for ${what}`);
    await sleep(2);
  }
}

/** Collect every item of an async iterable. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/**
 * Collect the events of a job that writes no output: every one is a status event (with its
 * snapshot). Fails on an `output` or `gap` event.
 */
export async function collectStatus(iterable: AsyncIterable<JobEvent>): Promise<JobStatusEvent[]> {
  return statusOnly(await collect(iterable));
}

/** The events, each checked to be a status event (with its snapshot). */
export function statusOnly(events: readonly JobEvent[]): JobStatusEvent[] {
  return events.map((event) => {
    if (!isStatusEvent(event)) throw new Error(`Expected status events only, got ${event.type} at seq ${event.seq}`);
    return event;
  });
}

/** What `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}
