import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { JobBus } from './job-bus.js';
import type { JobDispatcher } from './job-dispatcher.js';
import type { JobScheduler } from './job-scheduler.js';
import type { JobStore } from './job-store.js';

/** The tracker settings a backend needs, already checked. */
export interface BackendSettings {
  /** Jobs this process runs at once. */
  readonly concurrency: number;
  /** Waiting jobs allowed (`Infinity` for no limit); the engine passes it to `JobStore.create`. */
  readonly maxQueued: number;
  /** Finished jobs are removed this long after they end (`Infinity`: kept until removed). */
  readonly ttlMs: number;
}

/** What a backend is given when it opens. */
export interface BackendHost {
  /** The tracker's plugins (a dispatcher reads a plugin's own `concurrency` from its meta). */
  readonly plugins: PluginManager;
  readonly settings: BackendSettings;
  /** The tracker's clock, epoch ms. */
  readonly now: () => number;
  /** Where a driver reports what it cannot throw (connection errors, retries). */
  readonly logger: Logger;
}

/** The drivers of an open backend. */
export interface BackendDrivers {
  readonly store: JobStore;
  readonly bus: JobBus;
  /** Queues jobs (every process submits) and, where this process runs jobs, hands them out. */
  readonly dispatcher: JobDispatcher;
  /**
   * Keeps schedules and ticks them (`tracker.schedule`). Optional: without one, `schedule()`
   * fails `INVALID_CONFIG`. The engine starts it where this process runs jobs.
   */
  readonly scheduler?: JobScheduler;
  /**
   * False in a process that submits, reads and cancels but runs nothing (a producer): the engine
   * never starts its dispatcher. @default true
   */
  readonly runs?: boolean;
  /** Release what `open` acquired (connections, timers); called once, after the bus is closed. */
  close?(): Promise<void>;
}

/**
 * Where a tracker keeps and runs its jobs: a set of drivers — a {@link JobStore}, a {@link JobBus},
 * a {@link JobDispatcher} and, optionally, a {@link JobScheduler} — that hold no lifecycle logic of their own. The job lifecycle
 * (claim, context, timeout, cancel, result saving, the transition table, the JSON of snapshots and
 * events) is the engine's, the same on every backend.
 *
 * `MemoryBackend` (the default) keeps everything in this process; `BullMQBackend` from
 * `jobwire/bullmq` keeps jobs in Redis or PostgreSQL and runs them in any number of processes.
 * docs/backends.md shows how to write one; `testJobBackend` from `jobwire/testing` checks it.
 *
 * @example
 * ```ts
 * const backend: JobBackend = {
 *   open: (host) => ({ store: new MyStore(), bus: new MyBus(), dispatcher: new MyDispatcher(host.settings.concurrency) }),
 * };
 * new JobTracker({ plugins, backend });
 * ```
 */
export interface JobBackend {
  /**
   * Connect and return the drivers. Called once, by the tracker's constructor; a returned promise
   * is awaited before the tracker's first use of the drivers (a rejection fails every call with
   * it). Throw `INVALID_CONFIG` for settings this backend cannot honour.
   */
  open(host: BackendHost): BackendDrivers | Promise<BackendDrivers>;
}
