import type { BusHandlers, JobBus } from '../backend/job-bus.js';
import { parseLoggedEvent } from '../engine/logged-events.js';
import { settleWithin } from '../engine/settle-within.js';
import { messageOf } from '../errors.js';
import { logDebug, type Logger } from '../logger.js';
import { parseOutputBatch } from '../output/output-events.js';
import { closeRedis, QUIT_WAIT_MS } from './close-redis.js';
import { parseRecord } from './record-json.js';
import type { RedisClient, RedisJobStore } from './redis-store.js';

/**
 * Redis pub/sub: one subscriber connection per process for the store's events and removals. On a
 * Redis Cluster it is sharded pub/sub (SSUBSCRIBE; the store publishes with SPUBLISH): the node
 * that holds the queue's slot delivers each message itself, at once, and no other node carries it. An
 * output batch arrives as one message and is handed on as one event per chunk, in seq order.
 * ioredis reconnects and re-subscribes by itself; every reconnect is a `resync` (pub/sub keeps
 * nothing for a subscriber that was away): open `events()` iterators re-read their logs, and runs
 * of this process whose job ended or was removed meanwhile (a cancel during the gap) abort.
 */
export class RedisBus implements JobBus {
  readonly #sub: RedisClient;
  readonly #store: RedisJobStore;
  readonly #logger: Logger;

  constructor(sub: RedisClient, store: RedisJobStore, logger: Logger) {
    this.#sub = sub;
    this.#store = store;
    this.#logger = logger;
  }

  async subscribe(handlers: BusHandlers): Promise<void> {
    const { channel, sharded } = this.#store;
    const sub = this.#sub;
    const join = (): Promise<unknown> => (sharded ? sub.ssubscribe(channel) : sub.subscribe(channel));
    let subscribed = false;
    sub.on(sharded ? 'smessage' : 'message', (from: string, message: string) => {
      try {
        if (from !== channel) return;
        if (message.startsWith('e')) handlers.event(parseLoggedEvent(message.slice(1)));
        else if (message.startsWith('o')) for (const event of parseOutputBatch(message.slice(1))) handlers.event(event);
        else if (message.startsWith('r')) handlers.removed(parseRecord(message.slice(1)));
      } catch (error) {
        this.#logger.error({ err: error }, `jobwire: could not read a bus message: ${messageOf(error)}`);
      }
    });
    const again = (): void => {
      if (!subscribed) return;
      // Resync once the subscription is live again (ioredis re-subscribes on reconnect; this
      // answer comes after it): an event published before that is read from the logs, after it heard.
      void join().then(
        () => handlers.resync(),
        (error: unknown) => {
          this.#logger.warn({ err: error }, `jobwire: could not subscribe again after a Redis reconnect: ${messageOf(error)}`);
          handlers.resync(); // what can be read now is read; the next reconnect resyncs again
        },
      );
    };
    sub.on('ready', again);
    // A cluster's sharded subscribers are replaced when a node goes or the slots move: messages
    // published meanwhile were missed.
    if (sharded) sub.on('subscribersReady', again);
    await join();
    subscribed = true;
  }

  async close(): Promise<void> {
    const sub = this.#sub;
    if (this.#store.sharded && sub.status === 'ready') {
      // A cluster's sharded subscribers are dropped at once when it closes: leave the channel
      // first, so that what was published before (this process's own cancels on close among it) is
      // heard — the answer comes after every message the node sent before it. Bounded, as a QUIT is.
      await settleWithin([sub.sunsubscribe(this.#store.channel).catch(logDebug(this.#logger, 'leaving the channel failed'))], QUIT_WAIT_MS);
    }
    await closeRedis(sub);
  }
}
