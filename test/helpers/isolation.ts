import { readFileSync } from 'node:fs';
import type { Plugin } from '../../src/index.js';

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
