import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readStat, signal } from './proc.js';

/** Names of the cgroups this library makes: `jobwire-<host pid>-<n>`. */
const NAME = /^jobwire-(\d+)-\d+$/;

/** How long {@link JobCgroup.remove} waits for the killed processes to be gone. */
const REMOVE_WAIT_MS = 10_000;

/**
 * The cgroup v2 folder this process lives in, when it may make cgroups under it: `null` when not
 * (no cgroup v2, read-only, not ours), `undefined` before the first look.
 */
let parent: string | null | undefined;
let made = 0;

/** The folder of this process's own cgroup v2, from `/proc/self/cgroup` and the mount table. */
export function ownCgroupDir(): string | null {
  if (process.platform !== 'linux') return null;
  try {
    const line = readFileSync('/proc/self/cgroup', 'utf8')
      .split('\n')
      .find((entry) => entry.startsWith('0::'));
    if (!line) return null;
    const path = line.slice(3);
    for (const mount of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
      const [before, after] = mount.split(' - ');
      if (!after?.startsWith('cgroup2 ') || !before) continue;
      const fields = before.split(' ');
      const root = fields[3];
      const point = fields[4];
      if (root === undefined || point === undefined) continue;
      if (path === root || path.startsWith(root === '/' ? '/' : `${root}/`)) {
        const dir = join(point.replace(/\\040/g, ' '), path.slice(root === '/' ? 0 : root.length));
        accessSync(dir, constants.W_OK);
        return existsSync(join(dir, 'cgroup.procs')) ? dir : null;
      }
    }
  } catch {
    // Unreadable or not writable: no cgroups of our own here.
  }
  return null;
}

/** Where this host makes its cgroups (see {@link ownCgroupDir}), once what dead hosts left there is cleared. */
function probe(): string | null {
  const dir = ownCgroupDir();
  if (dir) removeStale(dir);
  return dir;
}

/** Kill and remove what hosts that died left behind (their cgroups outlive them). */
function removeStale(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const host = NAME.exec(name)?.[1];
    if (host === undefined || Number(host) === process.pid || readStat(Number(host))) continue;
    const stale = new JobCgroup(join(dir, name));
    stale.kill();
    void stale.remove();
  }
}

/**
 * One job's cgroup v2: everything the worker process starts is born into it and cannot leave it
 * without privileges, so one write to `cgroup.kill` ends all of it. Made under the host's own
 * cgroup, where the host may make cgroups (root, or a delegated subtree such as systemd's
 * `Delegate=yes`); no controller is enabled, so nothing about limits changes.
 */
export class JobCgroup {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * A new cgroup holding process `pid`, or `undefined` where cgroups cannot be made (then nothing
   * is tried again for later jobs).
   */
  static adopt(pid: number): JobCgroup | undefined {
    if (parent === undefined) parent = probe(); // once: `null` means no cgroups for this host
    if (!parent) return undefined;
    let cgroup: JobCgroup | undefined;
    while (!cgroup) {
      const dir = join(parent, `jobwire-${process.pid}-${++made}`);
      try {
        mkdirSync(dir);
        cgroup = new JobCgroup(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // a host of the same pid in another pid namespace
        parent = null;
        return undefined;
      }
    }
    try {
      writeFileSync(join(cgroup.dir, 'cgroup.procs'), String(pid));
    } catch (error) {
      void cgroup.remove();
      // ESRCH: that process is gone already. Anything else: not allowed to move it there (no
      // delegation of the common ancestor, a threaded subtree…), so no cgroups for this host.
      if ((error as NodeJS.ErrnoException).code !== 'ESRCH') parent = null;
      return undefined;
    }
    return cgroup;
  }

  /** Kill every process in the cgroup now: `cgroup.kill` (Linux 5.14), else freeze and kill one by one. */
  kill(): void {
    try {
      writeFileSync(join(this.dir, 'cgroup.kill'), '1');
      return;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !existsSync(this.dir)) return; // removed already
    }
    const freeze = join(this.dir, 'cgroup.freeze');
    const frozen = write(freeze, '1');
    for (let round = 0; round < 20; round++) {
      const pids = this.#pids();
      if (pids.length === 0) break;
      for (const pid of pids) signal(pid, 'SIGKILL');
    }
    if (frozen) write(freeze, '0'); // killed processes die only once thawed
  }

  /** Remove the cgroup once its processes are gone (a cgroup with processes cannot be removed). */
  async remove(): Promise<void> {
    const deadline = Date.now() + REMOVE_WAIT_MS;
    for (;;) {
      try {
        rmdirSync(this.dir);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EBUSY' || Date.now() > deadline) return; // gone already, or left for the next host to clean
      }
      await new Promise((resolve) => setTimeout(resolve, 20).unref());
    }
  }

  #pids(): number[] {
    try {
      return readFileSync(join(this.dir, 'cgroup.procs'), 'latin1')
        .split('\n')
        .filter((line) => line !== '')
        .map(Number);
    } catch {
      return [];
    }
  }
}

/** Write a cgroup file; `false` when it cannot be (an older kernel without it, a cgroup removed meanwhile). */
function write(path: string, value: string): boolean {
  try {
    writeFileSync(path, value);
    return true;
  } catch {
    return false; // the caller decides what a failed write means
  }
}

/** For tests: whether jobwire makes cgroups here; `false` turns them off, `true` looks again. */
export function useCgroups(enabled: boolean): boolean {
  parent = enabled ? probe() : null;
  return parent !== null;
}
