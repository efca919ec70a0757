import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { JobCgroup, ownCgroupDir } from './cgroup.js';
import { hasProc, signal } from './proc.js';
import { ProcessTree } from './process-tree.js';

/**
 * The environment variable each worker process is started with, a fresh random value per job:
 * whatever the plugin starts inherits it, which lets a sweep find programs that left the tree.
 */
export const SCOPE_VARIABLE = 'JOBWIRE_WORKER_SCOPE';

/** How everything one worker process started is found and ended. */
export interface Containment {
  /**
   * - `cgroup`: a cgroup v2 of its own (nothing escapes without privileges);
   * - `tree`: descendants followed through `/proc` (see {@link ProcessTree});
   * - `group`: its process group only (no `/proc`: macOS, BSD).
   */
  readonly kind: 'cgroup' | 'tree' | 'group';
  /** Kill the worker and everything it started that can be found, now; again after a first time. */
  kill(): void;
  /** The worker has exited and was killed: stop following it, remove what was made for it. */
  dispose(): void;
}

/** A fresh value for {@link SCOPE_VARIABLE}. */
export function newScope(): string {
  return randomBytes(12).toString('base64url');
}

/**
 * Contain a just-forked worker process, before it is given its job (so nothing it starts is born
 * outside): in a cgroup where this host may make one, else by following its process tree.
 */
export function contain(pid: number, scope: string): Containment {
  const cgroup = JobCgroup.adopt(pid);
  if (cgroup) {
    return {
      kind: 'cgroup',
      kill() {
        cgroup.kill();
        signal(-pid, 'SIGKILL'); // what was started before it joined the cgroup (a loader's helper)
      },
      dispose: () => void cgroup.remove(),
    };
  }
  if (hasProc) {
    const tree = new ProcessTree(pid, `${SCOPE_VARIABLE}=${scope}`);
    tree.watch();
    return { kind: 'tree', kill: () => tree.kill(), dispose: () => tree.unwatch() };
  }
  return { kind: 'group', kill: () => signal(process.platform === 'win32' ? pid : -pid, 'SIGKILL'), dispose() {} };
}

/**
 * In a worker whose host is gone: kill everything this worker started, and itself. Its own job
 * cgroup when it has one, else what a sweep of its tree finds, then its process group.
 */
export function killOwnScope(): void {
  let cgroup: string | null = null;
  try {
    const path = readFileSync('/proc/self/cgroup', 'utf8').split('\n').find((line) => line.startsWith('0::'));
    if (path && /^jobwire-\d+-\d+$/.test(basename(path))) cgroup = ownCgroupDir();
  } catch {
    // No /proc: the process group below is all there is.
  }
  if (cgroup) new JobCgroup(cgroup).kill();
  const scope = process.env[SCOPE_VARIABLE];
  if (hasProc && scope) new ProcessTree(process.pid, `${SCOPE_VARIABLE}=${scope}`).kill();
  signal(-process.pid, 'SIGKILL');
}
