import { allProcesses, childrenOf, hasEnvironment, readStat, signal, type ProcStat } from './proc.js';

/** How often the trees of running workers are walked for new descendants. */
const POLL_MS = 100;

/** How many stop-and-look rounds a sweep makes at most before it kills what it found. */
const SWEEP_ROUNDS = 20;

/**
 * Everything a worker process started, found without privileges on Linux: its descendants by
 * parent pid, walked every {@link POLL_MS} while it lives and remembered (pid and start time) after
 * they leave the tree; whoever is in the process group or session of the worker or of one of those;
 * and whoever still carries the worker's scope variable in its environment.
 *
 * What it cannot find: a program that left the tree between two walks *and* dropped the variable
 * (double fork with a cleared environment), or one started by another service on the worker's
 * behalf (a container runtime, `systemd-run`, `at`).
 */
export class ProcessTree {
  /** The worker's pid. */
  readonly root: number;
  /** `NAME=value` in the environment of the worker and everything it starts. */
  readonly #marker: string;
  /** The worker's start time; nothing it started can be older. */
  readonly #since: number;
  /** Every descendant ever seen, by pid, with its start time (to tell a reused pid). */
  readonly #seen = new Map<number, number>();
  #walkable = true;

  constructor(root: number, marker: string) {
    this.root = root;
    this.#marker = marker;
    const stat = readStat(root);
    this.#since = stat?.start ?? 0;
    if (stat) this.#seen.set(root, stat.start);
  }

  /** Start walking this tree on the shared timer. */
  watch(): void {
    watched.add(this);
    poller ??= setInterval(pollAll, POLL_MS).unref();
  }

  /** Stop walking it (the worker and what it started are gone). */
  unwatch(): void {
    watched.delete(this);
    if (watched.size === 0 && poller) {
      clearInterval(poller);
      poller = undefined;
    }
  }

  /** Record the descendants of the known living processes of this tree: cheap, one file per thread. */
  walk(): void {
    if (!this.#walkable) return this.#record(this.#find(allProcesses(), false));
    // Only the living (a pid reused by another process is not ours to walk).
    const queue = [...this.#seen].filter(([pid, start]) => readStat(pid)?.start === start).map(([pid]) => pid);
    for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
      const children = childrenOf(pid);
      if (children === undefined) {
        // This kernel has no children files: fall back to reading every process's parent.
        this.#walkable = false;
        return this.walk();
      }
      for (const child of children) {
        if (this.#seen.has(child)) continue;
        const stat = readStat(child);
        if (stat && stat.start >= this.#since) {
          this.#seen.set(child, stat.start);
          queue.push(child);
        }
      }
    }
  }

  /**
   * Kill every process of this tree that can be found (never the calling process). Each round stops
   * (`SIGSTOP`) what it finds, so nothing forks or leaves while the next round looks; then all of
   * them are killed at once, and the worker's process group as a backstop.
   */
  kill(): void {
    const stopped = new Set<number>();
    for (let round = 0; round < SWEEP_ROUNDS; round++) {
      const found = this.#find(allProcesses(), true).filter((stat) => !stopped.has(stat.pid));
      if (found.length === 0) break;
      this.#record(found);
      for (const { pid } of found) {
        signal(pid, 'SIGSTOP');
        stopped.add(pid);
      }
    }
    for (const pid of stopped) signal(pid, 'SIGKILL');
    if (this.root !== process.pid) signal(-this.root, 'SIGKILL');
  }

  #record(found: ProcStat[]): void {
    for (const { pid, start } of found) if (!this.#seen.has(pid)) this.#seen.set(pid, start);
  }

  /** The processes among `procs` that belong to this tree. */
  #find(procs: ProcStat[], byEnvironment: boolean): ProcStat[] {
    const running = new Map(procs.map((stat) => [stat.pid, stat]));
    const candidates = new Map<number, ProcStat>();
    for (const stat of procs) {
      // Never this process (the host, or the worker sweeping itself), nor anything older than the worker.
      if (stat.pid !== process.pid && stat.pid !== 1 && stat.start >= this.#since) candidates.set(stat.pid, stat);
    }
    const byParent = new Map<number, ProcStat[]>();
    const byGroup = new Map<number, ProcStat[]>();
    const add = (index: Map<number, ProcStat[]>, key: number, stat: ProcStat): void => {
      const list = index.get(key);
      if (list) list.push(stat);
      else index.set(key, [stat]);
    };
    for (const stat of candidates.values()) {
      add(byParent, stat.ppid, stat);
      add(byGroup, stat.pgrp, stat);
      if (stat.session !== stat.pgrp) add(byGroup, stat.session, stat);
    }
    const found = new Map<number, ProcStat>();
    const visited = new Set<number>();
    const queue: number[] = [];
    const visit = (pid: number): void => {
      if (visited.has(pid)) return;
      visited.add(pid);
      queue.push(pid);
      const stat = candidates.get(pid);
      if (stat) found.set(pid, stat);
    };
    for (const [pid, start] of this.#seen) {
      const now = running.get(pid);
      // A pid now used by another process is not ours; a gone one still names its group and session.
      if (now === undefined || now.start === start) visit(pid);
    }
    if (byEnvironment) {
      for (const stat of candidates.values()) if (!visited.has(stat.pid) && hasEnvironment(stat.pid, this.#marker)) visit(stat.pid);
    }
    for (let pid = queue.pop(); pid !== undefined; pid = queue.pop()) {
      for (const stat of byParent.get(pid) ?? []) visit(stat.pid);
      for (const stat of byGroup.get(pid) ?? []) visit(stat.pid);
    }
    return [...found.values()];
  }
}

const watched = new Set<ProcessTree>();
let poller: NodeJS.Timeout | undefined;

function pollAll(): void {
  for (const tree of watched) tree.walk();
}
