import type { QueueEvents } from 'bullmq';
import { messageOf } from '../errors.js';
import type { Logger } from '../logger.js';

/** How long a read waits for an event when there is none (BullMQ's `XREAD BLOCK`, or a wait for its NOTIFY): `QueueEvents`' default. */
const BLOCK_MS = 10_000;

/**
 * The pause after a read that found less than {@link FULL_READ} events: events meanwhile pile up
 * and come in the next read together. The most an event waits to be heard, beyond its read.
 */
export const READ_PACE_MS = 250;

/**
 * A read this large may have left events behind (BullMQ on PostgreSQL reads 100 at a time; on
 * Redis a read takes every event there is): the next one goes at once.
 */
const FULL_READ = 100;

/** How long the reader waits before reading again after a read failed (an outage). */
const RETRY_MS = 1_000;

/** The suffix BullMQ gives a `QueueEvents` connection's name, by which `Queue#getQueueEvents` (and Bull Board) list readers. */
const READER_NAME_SUFFIX = ':qe';

/** One event of a BullMQ queue's event stream: its name and fields, as BullMQ wrote them. */
export interface QueueEvent {
  event: string;
  [field: string]: string;
}

/**
 * Reads a BullMQ queue's event stream in batches, for the few events the dispatcher acts on. A
 * `QueueEvents` reader answers each event as it comes: one read per event on a quiet queue, and on
 * a busy one about a read per job on Redis and several statements per job on PostgreSQL (it reads
 * again after each of BullMQ's notifications). This reader reads once, hands every event read to
 * `onEvent`, then pauses {@link READ_PACE_MS} before the next read (none when a read was full): a
 * read costs the same for one event as for thousands, so a busy queue costs a few reads a second
 * however many jobs it runs. An event is heard at most {@link READ_PACE_MS} after it is written.
 *
 * It reads through a `QueueEvents` that is never run (`autorun: false`), so BullMQ's own reading
 * of the stream (`XREAD` on Redis, its event table on PostgreSQL) and its connection handling
 * serve both databases alike.
 */
export class QueueEventsReader {
  readonly #events: QueueEvents;
  readonly #onEvent: (event: QueueEvent) => void;
  readonly #logger: Logger;
  #closed = false;
  #loop: Promise<void> | undefined;
  /** Ends the pause under way at once (closing). */
  #wake: (() => void) | undefined;
  /** Reads have failed since the last one that did not (an outage): only the first failure is a warning. */
  #failing = false;

  /** `events`: a `QueueEvents` made with `autorun: false`; the reader closes it. */
  constructor(events: QueueEvents, onEvent: (event: QueueEvent) => void, logger: Logger) {
    this.#events = events;
    this.#onEvent = onEvent;
    this.#logger = logger;
    events.on('error', (error) => logger.warn({ err: error }, `jobwire: BullMQ events error: ${error.message}`));
  }

  /** Resolves once the reader's connection is ready; reading starts then, from the events written after it. */
  async start(): Promise<void> {
    await this.#events.waitUntilReady();
    // Named as BullMQ names its readers, so that its tools list this one.
    const { backend } = this.#events;
    void backend.setName(backend.clientName(READER_NAME_SUFFIX)).catch((error: unknown) => this.#logger.debug({ err: error }, `jobwire: could not name a BullMQ events connection: ${messageOf(error)}`));
    this.#loop ??= this.#read();
  }

  /** Stop reading and close the reader's connection. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    await this.#events.close(); // ends a read under way
    await this.#loop;
  }

  async #read(): Promise<void> {
    let id = '$';
    while (!this.#closed) {
      let read: Awaited<ReturnType<QueueEvents['backend']['readEvents']>>;
      try {
        read = await this.#events.backend.readEvents(id, BLOCK_MS);
      } catch (error) {
        if (this.#closed) return;
        const message = `jobwire: could not read BullMQ's queue events; reading again every ${RETRY_MS / 1000} s: ${messageOf(error)}`;
        if (this.#failing) this.#logger.debug({ err: error }, message);
        else this.#logger.warn({ err: error }, message);
        this.#failing = true;
        await this.#pause(RETRY_MS);
        continue;
      }
      this.#failing = false;
      const entries = (read?.[0]?.[1] ?? []) as [string, string[]][];
      for (const [entryId, fields] of entries) {
        id = entryId;
        this.#hand(fields);
      }
      // Until one event is read, '$' means "from now": the next read goes at once (events written
      // between two such reads are missed, as by BullMQ's own QueueEvents).
      if (id !== '$' && entries.length < FULL_READ) await this.#pause(READ_PACE_MS);
    }
  }

  #hand(fields: string[]): void {
    const event: QueueEvent = { event: '' };
    for (let i = 0; i + 1 < fields.length; i += 2) event[fields[i]!] = fields[i + 1]!;
    try {
      this.#onEvent(event);
    } catch (error) {
      this.#logger.warn({ err: error }, `jobwire: handling a BullMQ queue event failed: ${messageOf(error)}`);
    }
  }

  #pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = done;
    });
  }
}
