import PQueue from 'p-queue';
import type { DispatchHandlers, JobDispatcher } from '../backend/job-dispatcher.js';
import type { JobRecord } from '../backend/job-record.js';
import type { Logger } from '../logger.js';
import type { PluginManager } from '../plugin-manager/types.js';
import { whenDue } from '../timers.js';

/** A job's place in the queues. A job dropped while it waits leaves an empty ticket, which its turn skips. */
interface Ticket {
  record: JobRecord | undefined;
  /** While the job waits for its `runAt` (delayed, or a retry's backoff): cancels the wait. */
  cancelWait: (() => void) | undefined;
}

/**
 * Hands out jobs in this process with p-queue: one queue for the tracker's `concurrency`, and one
 * more per plugin that declares its own `concurrency`. A capped plugin's job waits in its plugin's
 * queue first and takes a global slot only when its turn comes there, so it never holds a global
 * slot while other plugins' jobs could run. A job with a `runAt` waits on a timer (unref'd: it never
 * keeps the process alive) before it joins the queues.
 */
export class MemoryDispatcher implements JobDispatcher {
  readonly #queue: PQueue;
  readonly #pluginQueues = new Map<string, PQueue>();
  readonly #tickets = new Map<string, Ticket>();
  readonly #plugins: PluginManager;
  readonly #logger: Logger;
  readonly #now: () => number;
  #handlers: DispatchHandlers | undefined;

  constructor(concurrency: number, plugins: PluginManager, logger: Logger, now: () => number = Date.now) {
    this.#queue = new PQueue({ concurrency });
    this.#plugins = plugins;
    this.#logger = logger;
    this.#now = now;
  }

  start(handlers: DispatchHandlers): Promise<void> {
    this.#handlers = handlers;
    return Promise.resolve();
  }

  enqueue(record: JobRecord): Promise<void> {
    this.#wait(record, record.runAt);
    return Promise.resolve();
  }

  /** Queue `record` once `runAt` (engine clock) has come; at once when it is undefined or past. */
  #wait(record: JobRecord, runAt: number | undefined): void {
    const ticket: Ticket = { record, cancelWait: undefined };
    this.#tickets.set(record.id, ticket);
    const due = (): void => {
      if (ticket.record) this.#add(ticket, ticket.record);
    };
    if (runAt === undefined) due();
    else ticket.cancelWait = whenDue(runAt, this.#now, due); // a waiting job never keeps the process alive
  }

  #add(ticket: Ticket, record: JobRecord): void {
    const options = { priority: record.priority };
    const run = (): Promise<unknown> => {
      const job = ticket.record;
      const handlers = this.#handlers;
      if (!job || !handlers) return Promise.resolve();
      ticket.record = undefined;
      this.#tickets.delete(job.id);
      return handlers.run({ id: job.id, plugin: job.plugin, delivery: 1, record: job }).then((outcome) => {
        // Retried, or handed out before its time: it waits again (unless the dispatcher stopped meanwhile).
        if (outcome.kind === 'later' && this.#handlers) this.#wait(job, outcome.runAt);
      });
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
  }

  discard(record: JobRecord): Promise<void> {
    const ticket = this.#tickets.get(record.id);
    if (ticket) {
      ticket.record = undefined;
      ticket.cancelWait?.();
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
    for (const ticket of this.#tickets.values()) {
      ticket.record = undefined;
      ticket.cancelWait?.();
    }
    this.#tickets.clear();
    this.#handlers = undefined;
    return Promise.resolve(waiting);
  }
}
