import type { Client, ClientConfig, Notification } from 'pg';
import type { BusHandlers, JobBus } from '../backend/job-bus.js';
import { parseLoggedEvent } from '../engine/logged-events.js';
import { messageOf } from '../errors.js';
import { logDebug, type Logger } from '../logger.js';
import { parseOutputBatch } from '../output/output-events.js';
import { EVENTS_CHANNEL, type PostgresJobStore } from './postgres-store.js';
import { parseRecord } from './record-json.js';

/** Waits before the 1st, 2nd, … reconnect of the LISTEN connection (the last one repeats). */
const RECONNECT_DELAYS_MS = [100, 250, 500, 1_000, 2_000, 5_000];

type ClientFactory = (config: ClientConfig) => Client;

/**
 * LISTEN/NOTIFY on a dedicated connection: events, output batches and removals of this queue, in
 * commit order; an output batch is handed on as one event per chunk. Large events and batches
 * arrive by reference and are read back, in order, before the next message (a batch dropped
 * before it could be read back is a `resync`: readers re-read the log and find the gap there).
 *
 * The connection can drop (a restart, a failover, an idle kill): the bus then opens a new one with
 * backoff, LISTENs again and asks the engine to `resync` — notifications sent while it was away are
 * lost, the logs and records in the tables are not: open `events()` iterators re-read their logs,
 * and runs of this process whose job ended or was removed meanwhile (a cancel during the gap) abort.
 */
export class PostgresBus implements JobBus {
  readonly #connect: () => Client;
  readonly #store: PostgresJobStore;
  readonly #logger: Logger;
  #client: Client | undefined;
  #handlers: BusHandlers | undefined;
  #chain: Promise<void> = Promise.resolve();
  #closed = false;
  #reconnecting: NodeJS.Timeout | undefined;

  constructor(makeClient: ClientFactory, connectionString: string, store: PostgresJobStore, logger: Logger) {
    this.#connect = () => makeClient({ connectionString });
    this.#store = store;
    this.#logger = logger;
  }

  async subscribe(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    await this.#listen();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#reconnecting);
    await this.#chain;
    await this.#client?.end().catch(logDebug(this.#logger, 'closing the PostgreSQL LISTEN connection failed'));
  }

  /** Open a connection and LISTEN; on any failure of it later, start over. */
  async #listen(): Promise<void> {
    const client = this.#connect();
    let lost = false;
    const onLost = (error?: Error): void => {
      if (lost) return;
      lost = true;
      if (this.#client === client) this.#client = undefined;
      client.removeAllListeners('notification');
      void client.end().catch(logDebug(this.#logger, 'ending a lost PostgreSQL LISTEN connection failed'));
      if (!this.#closed) {
        this.#logger.warn({ err: error }, `jobwire: the PostgreSQL LISTEN connection was lost${error ? `: ${error.message}` : ''}; reconnecting`);
        this.#reconnect(0);
      }
    };
    client.on('error', (error) => onLost(error));
    client.on('end', () => onLost());
    client.on('notification', (notification) => this.#receive(notification));
    try {
      await client.connect();
      await client.query(`LISTEN ${EVENTS_CHANNEL}`);
    } catch (error) {
      lost = true; // this attempt is over; the caller decides what comes next
      client.removeAllListeners();
      client.on('error', logDebug(this.#logger, 'a PostgreSQL LISTEN connection that failed to start'));
      void client.end().catch(logDebug(this.#logger, 'ending a PostgreSQL LISTEN connection that failed to start'));
      throw error;
    }
    this.#client = client;
  }

  #reconnect(attempt: number): void {
    const delay = RECONNECT_DELAYS_MS[Math.min(attempt, RECONNECT_DELAYS_MS.length - 1)] as number;
    this.#reconnecting = setTimeout(() => {
      void this.#listen().then(
        () => {
          this.#logger.info({}, 'jobwire: the PostgreSQL LISTEN connection is back');
          this.#handlers?.resync(); // what was sent meanwhile is read from the tables
        },
        (error: unknown) => {
          if (this.#closed) return;
          this.#logger.warn({ err: error }, `jobwire: could not reconnect the PostgreSQL LISTEN connection: ${messageOf(error)}`);
          this.#reconnect(attempt + 1);
        },
      );
    }, delay);
    this.#reconnecting.unref();
  }

  #receive(notification: Notification): void {
    const handlers = this.#handlers;
    if (!handlers) return;
    let payload: { q?: string; e?: string; r?: string; ref?: { id: string; seq: number }; o?: string; oref?: { id: string; start: number; from: number } };
    try {
      payload = JSON.parse(notification.payload ?? '{}') as typeof payload;
    } catch (error) {
      this.#logger.error({ err: error }, `jobwire: could not read a notification: ${messageOf(error)}`);
      return;
    }
    if (payload.q !== this.#store.queue || notification.channel !== EVENTS_CHANNEL) return;
    // In order: an event read back by reference holds the ones after it until it is delivered.
    this.#chain = this.#chain.then(async () => {
      if (payload.r !== undefined) {
        const removed = payload.r;
        this.#deliver(() => handlers.removed(parseRecord(removed)));
        return;
      }
      if (payload.o !== undefined || payload.oref !== undefined) {
        await this.#output(handlers, payload.o, payload.oref);
        return;
      }
      let text = payload.e;
      if (text === undefined && payload.ref) {
        try {
          text = await this.#store.event(payload.ref.id, payload.ref.seq);
        } catch (error) {
          // Readers re-read the job's log when they resync; until then this event is late, not lost.
          this.#logger.warn({ jobId: payload.ref.id, err: error }, `jobwire: could not read back a large event: ${messageOf(error)}`);
          handlers.resync();
        }
      }
      if (text !== undefined) {
        const event = text;
        this.#deliver(() => handlers.event(parseLoggedEvent(event)));
      }
    });
  }

  /** Hand on an output batch, inline or read back by its reference; one event per chunk. */
  async #output(handlers: BusHandlers, inline: string | undefined, ref: { id: string; start: number; from: number } | undefined): Promise<void> {
    let text = inline;
    if (text === undefined && ref) {
      try {
        text = await this.#store.outputBatch(ref.id, ref.start);
      } catch (error) {
        this.#logger.warn({ jobId: ref.id, err: error }, `jobwire: could not read back a large output batch: ${messageOf(error)}`);
      }
    }
    if (text === undefined) {
      handlers.resync(); // unreadable or dropped already: readers re-read the log (the gap says what is gone)
      return;
    }
    const batch = text;
    this.#deliver(() => {
      const events = parseOutputBatch(batch);
      // Its oldest chunks were dropped as it was stored (the batch alone is past the limit): readers re-read the log and find the gap there.
      if (ref && events[0]?.seq !== ref.from) handlers.resync();
      else for (const event of events) handlers.event(event);
    });
  }

  #deliver(deliver: () => void): void {
    try {
      deliver();
    } catch (error) {
      this.#logger.error({ err: error }, `jobwire: could not read a notification: ${messageOf(error)}`);
    }
  }
}
