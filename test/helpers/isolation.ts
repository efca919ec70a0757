import { readFileSync } from 'node:fs';
import type { JobSnapshot, JobTracker, Plugin } from '../../src/index.js';

/** Plain-JavaScript plugins that worker threads and processes can import (see the file). */
export const ISOLATION_PLUGINS = new URL('../fixtures/isolation/plugins.mjs', import.meta.url);

/** The fixture plugins by name. */
export async function isolationPlugins(): Promise<Record<string, Plugin>> {
  return (await import(ISOLATION_PLUGINS.href)) as Record<string, Plugin>;
}

/** Whether a process runs (a zombie waiting to be reaped counts as gone). */
export function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

/** A pino-style logger that keeps every `info` line. */
export function lineLogger() {
  const lines: string[] = [];
  const logger = { info: (_obj: object, message?: string) => void lines.push(message ?? ''), warn() {}, error() {}, debug() {} };
  return { lines, logger };
}

/** A pino-style logger that keeps every `info` line with the job it came from. */
export function jobLogger() {
  const lines: { jobId: string | undefined; line: string }[] = [];
  const logger = {
    info: (obj: { jobId?: string }, message?: string) => void lines.push({ jobId: obj.jobId, line: message ?? '' }),
    warn() {},
    error() {},
    debug() {},
  };
  /** The first line of a job that starts with `prefix`, without the prefix. */
  const find = (jobId: string, prefix: string): string | undefined => lines.find((entry) => entry.jobId === jobId && entry.line.startsWith(prefix))?.line.slice(prefix.length);
  return { lines, logger, find };
}

/**
 * Submit a job with a timeout, doubling the timeout (from `firstMs`) until the job's plugin had got
 * as far as `started(jobId)` says before the timeout hit: a process worker's start-up is not bounded
 * on a loaded machine, and a timeout that fires before `run()` begins tests nothing about `run()`.
 * Returns the job that timed out after starting.
 */
export async function timeOutAfterStart(tracker: JobTracker, plugin: string, input: unknown, started: (jobId: string) => boolean, firstMs = 1_000): Promise<JobSnapshot> {
  for (let timeoutMs = firstMs; timeoutMs <= 32 * firstMs; timeoutMs *= 2) {
    const job = await tracker.submit(plugin, input, { timeoutMs });
    const done = await tracker.wait(job.id);
    if (started(job.id)) return done;
  }
  throw new Error(`${plugin} never started before its timeout`);
}
