import PQueue from 'p-queue';
import type { DispatchHandlers, JobDispatcher } from '../backend/job-dispatcher.js';
import type { JobRecord } from '../backend/job-record.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';

/** A job's place in the queues. A job dropped while it waits leaves an empty ticket, which its turn skips. */
interface Ticket {
  record: JobRecord | undefined;
}

/**
 * Hands out jobs in this process with p-queue: one queue for the tracker's `concurrency`, and one
 * more per plugin that declares its own `concurrency`. A capped plugin's job waits in its plugin's
 * queue first and takes a global slot only when its turn comes there, so it never holds a global
 * slot while other plugins' jobs could run.
 */
export class MemoryDispatcher implements JobDispatcher {
  readonly #queue: PQueue;
  readonly #pluginQueues = new Map<string, PQueue>();
  readonly #tickets = new Map<string, Ticket>();
  readonly #plugins: PluginManager;
  readonly #logger: Logger;
  #handlers: DispatchHandlers | undefined;

  constructor(concurrency: number, plugins: PluginManager, logger: Logger) {
    this.#queue = new PQueue({ concurrency });
    this.#plugins = plugins;
    this.#logger = logger;
  }

  start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    return Promise.resolve();
  }

  enqueue(record: JobRecord): Promise<void> {
    const ticket: Ticket = { record };
    this.#tickets.set(record.id, ticket);
    const options = { priority: record.priority };
    const run = (): Promise<unknown> => {
      const job = ticket.record;
      if (!job || !this.#handlers) return Promise.resolve();
      ticket.record = undefined;
      this.#tickets.delete(job.id);
      return this.#handlers.run({ id: job.id, plugin: job.plugin, delivery: 1, record: job });
    };
    const cap = this.#plugins.getMeta(record.plugin)?.concurrency;
    let added: Promise<unknown>;
    if (cap === undefined) {
      added = this.#queue.add(run, options);
    } else {
      let pluginQueue = this.#pluginQueues.get(record.plugin);
      if (!pluginQueue) this.#pluginQueues.set(record.plugin, (pluginQueue = new PQueue({ concurrency: cap })));
      else if (pluginQueue.concurrency !== cap) pluginQueue.concurrency = cap;
      // The plugin's slot is held while the job waits for a global one; other plugins are not blocked.
      added = pluginQueue.add(async () => (ticket.record ? this.#queue.add(run, options) : undefined), options);
    }
    added.catch((error: unknown) => this.#logger.error({ jobId: record.id, err: error }, 'jobwire: queue task failed'));
    return Promise.resolve();
  }

  discard(record: JobRecord): Promise<void> {
    const ticket = this.#tickets.get(record.id);
    if (ticket) {
      ticket.record = undefined;
      this.#tickets.delete(record.id);
    }
    return Promise.resolve();
  }

  idleSlots(): number {
    return Math.max(0, this.#queue.concurrency - this.#queue.pending);
  }

  /** The waiting jobs die with this process: their ids go back to the engine to cancel. */
  stop(): Promise<string[]> {
    const waiting = [...this.#tickets.keys()];
    for (const ticket of this.#tickets.values()) ticket.record = undefined;
    this.#tickets.clear();
    this.#handlers = undefined;
    return Promise.resolve(waiting);
  }
}
