import type { BackendDrivers, BackendHost, JobBackend } from '../backend/job-backend.js';
import { MemoryBus } from './memory-bus.js';
import { MemoryDispatcher } from './memory-dispatcher.js';
import { MemoryScheduler } from './memory-scheduler.js';
import { MemoryStore } from './memory-store.js';

/**
 * The default backend: jobs, logs and queues in this process's memory — a {@link MemoryStore}, an
 * in-process bus, and a p-queue dispatcher (one global queue, plus one per plugin that declares a
 * `concurrency` cap). Nothing to start, nothing survives the process.
 *
 * @example
 * ```ts
 * const backend = new MemoryBackend();
 * const tracker = new JobTracker({ plugins, backend });
 * backend.sweep(); // run the TTL sweep now (it also runs every `sweepIntervalMs`)
 * ```
 */
export class MemoryBackend implements JobBackend {
  #store: MemoryStore | undefined;
  #now: () => number = Date.now;

  open(host: BackendHost): BackendDrivers {
    const bus = new MemoryBus();
    const store = new MemoryStore(bus);
    this.#store = store;
    this.#now = host.now;
    return { store, bus, dispatcher: new MemoryDispatcher(host.settings.concurrency, host.plugins, host.logger, host.now), scheduler: new MemoryScheduler(host.now, host.logger) };
  }

  /** Remove every finished job whose TTL has passed, now; how many. Costs O(expired · log n). */
  sweep(): number {
    return this.#store?.sweep(this.#now(), Infinity) ?? 0;
  }
}
