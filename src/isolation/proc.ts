import { existsSync, readdirSync, readFileSync } from 'node:fs';

/** What `/proc/<pid>/stat` says about a process (Linux). */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** Process group id. */
  pgrp: number;
  /** Session id. */
  session: number;
  /** Start time in clock ticks since boot: with the pid, it names one process even after pid reuse. */
  start: number;
  /** One letter: R, S, D, T, Z (zombie), X (dead)… */
  state: string;
}

/** Whether this system has a Linux-style `/proc`. */
export const hasProc: boolean = process.platform === 'linux' && existsSync('/proc/self/stat');

/** A process's stat line, parsed; `undefined` when it is gone (or unreadable). */
export function readStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may hold spaces or ')': split after the last one.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return {
    pid,
    state: fields[0] ?? '?',
    ppid: Number(fields[1]),
    pgrp: Number(fields[2]),
    session: Number(fields[3]),
    start: Number(fields[19]),
  };
}

/** Whether a process is running (not gone, not a zombie waiting to be reaped). */
export function isRunning(stat: ProcStat | undefined): stat is ProcStat {
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

/** Every running process of the system. */
export function allProcesses(): ProcStat[] {
  let names: string[];
  try {
    names = readdirSync('/proc');
  } catch {
    return [];
  }
  const out: ProcStat[] = [];
  for (const name of names) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue;
    const stat = readStat(Number(name));
    if (isRunning(stat)) out.push(stat);
  }
  return out;
}

/**
 * The direct children of a process, from `/proc/<pid>/task/<tid>/children` (every thread's), or
 * `undefined` when the kernel does not offer that file.
 */
export function childrenOf(pid: number): number[] | undefined {
  let tasks: string[];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const children: number[] = [];
  for (const task of tasks) {
    let text: string;
    try {
      text = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(`/proc/${pid}/task/${task}`)) return undefined;
      continue; // the thread ended meanwhile
    }
    for (const child of text.split(' ')) if (child !== '' && child !== '\n') children.push(Number(child));
  }
  return children;
}

/** Whether a process's environment (as it was at its exec) holds `entry` (`NAME=value`). */
export function hasEnvironment(pid: number, entry: string): boolean {
  try {
    const environ = readFileSync(`/proc/${pid}/environ`);
    const needle = Buffer.from(`${entry}\0`);
    return environ.indexOf(needle) === 0 || environ.indexOf(Buffer.concat([Buffer.from([0]), needle])) >= 0;
  } catch {
    return false; // gone, or not ours to read (another user): not ours to kill either
  }
}

/** Send a signal; a process that is gone already (or not ours) is not an error here. */
export function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: gone already. EPERM: not ours to signal.
  }
}
