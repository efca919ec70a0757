/**
 * Counts what a benchmark process sends to its database, over every connection it opens (queues,
 * workers, event readers, listeners, jobwire's store and bus alike):
 *
 * - PostgreSQL: every `Client#query` call (pools query through their clients). node-postgres sends
 *   a client's queries one at a time, each after the previous one's answer, so one call is one
 *   statement and one round trip.
 * - Redis: every command an ioredis connection sends (a script call is one); a pipeline (`multi`,
 *   `pipeline`) counts as one round trip. Commands sent one after the other without awaiting each
 *   other (jobwire's record script and BullMQ's add, on Redis) count as two: the count is of what
 *   the database answers, not of how long a caller waits.
 *
 * `kinds` names each statement or command (a PostgreSQL function called, else the statement's
 * first words; a Redis command, or the script a known EVALSHA runs), to see where the count goes.
 */
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';

/** What was sent since the counter was made or last reset. */
export interface Sent {
  /** PostgreSQL statements, or Redis round trips. */
  roundTrips: number;
  /** Redis commands (PostgreSQL: equal to `roundTrips`). */
  commands: number;
  kinds: Map<string, number>;
  /** PostgreSQL: the time from sending each kind of statement to its answer, summed (ms). */
  ms: Map<string, number>;
}

const sent: Sent = { roundTrips: 0, commands: 0, kinds: new Map(), ms: new Map() };

function note(kind: string): void {
  sent.kinds.set(kind, (sent.kinds.get(kind) ?? 0) + 1);
}

/** A short name for a PostgreSQL statement: the function a `SELECT f(…)` calls, else its first words. */
function statementKind(text: string): string {
  const sql = text.replace(/--[^\n]*\n/g, ' ').replace(/\s+/g, ' ').trim();
  const call = /^SELECT (?:\S+ FROM |\* FROM )?([a-z_]+)\(/i.exec(sql);
  if (call && !/^(count|exists|pg_advisory_xact_lock)$/i.test(call[1]!)) return `${call[1]}()`;
  const cte = /^WITH (\w+) AS \(\s*(\w+(?: INTO| FROM)? \S+)/i.exec(sql);
  if (cte) return `WITH ${cte[1]} (${cte[2]})`;
  return sql.slice(0, 90);
}

let installed = false;

/** Start counting (once per process): patch node-postgres's and ioredis's send paths. */
export function countRoundTrips(): Sent {
  if (installed) return sent;
  installed = true;
  const query = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
    const first = args[0];
    const text = typeof first === 'string' ? first : (first as { text?: string } | undefined)?.text;
    if (typeof text !== 'string') return (query as (...a: unknown[]) => unknown).apply(this, args);
    sent.roundTrips++;
    sent.commands++;
    const kind = statementKind(text);
    note(kind);
    const start = performance.now();
    const took = (): void => void sent.ms.set(kind, (sent.ms.get(kind) ?? 0) + performance.now() - start);
    const last = args.length - 1;
    const callback = args[last];
    if (typeof callback === 'function') {
      args[last] = (...answer: unknown[]) => {
        took();
        return (callback as (...a: unknown[]) => unknown)(...answer);
      };
      return (query as (...a: unknown[]) => unknown).apply(this, args);
    }
    const result = (query as (...a: unknown[]) => unknown).apply(this, args);
    if (result instanceof Promise) result.then(took, took);
    return result;
  } as typeof query;

  const scripts = new Map<string, string>(); // sha → script name, from the SCRIPT LOAD / defineCommand bodies seen
  const pipelines = new WeakSet<object>(); // the streams pipelines write through, once counted
  const sendCommand = Redis.prototype.sendCommand;
  Redis.prototype.sendCommand = function (this: Redis, command: unknown, stream?: unknown) {
    const cmd = command as { name: string; args: unknown[] };
    sent.commands++;
    const name = cmd.name.toLowerCase();
    if (name === 'evalsha') note(`evalsha ${scripts.get(String(cmd.args[0])) ?? String(cmd.args[0]).slice(0, 8)}`);
    else note(name);
    // A pipeline (or MULTI) hands its commands over with a stream of its own, and writes them at once.
    if (stream === undefined) sent.roundTrips++;
    else if (!pipelines.has(stream as object)) {
      pipelines.add(stream as object);
      sent.roundTrips++;
    }
    return (sendCommand as (...a: unknown[]) => unknown).call(this, command, stream);
  } as typeof sendCommand;
  const defineCommand = Redis.prototype.defineCommand;
  Redis.prototype.defineCommand = function (this: Redis, name: string, definition: { lua: string; numberOfKeys?: number }) {
    scripts.set(createHash('sha1').update(definition.lua).digest('hex'), name);
    return defineCommand.call(this, name, definition);
  } as typeof defineCommand;
  return sent;
}

/** The counts so far, and start again from zero. */
export function takeSent(): Sent {
  const taken: Sent = { roundTrips: sent.roundTrips, commands: sent.commands, kinds: new Map(sent.kinds), ms: new Map(sent.ms) };
  sent.roundTrips = 0;
  sent.commands = 0;
  sent.kinds.clear();
  sent.ms.clear();
  return taken;
}

/** The largest kinds, per job, as `name ×n.nn`. */
export function topKinds(taken: Sent, jobs: number, count = 8): string {
  return [...taken.kinds.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([kind, n]) => `${kind} ×${(n / jobs).toFixed(2)}${taken.ms.has(kind) ? ` (${((taken.ms.get(kind) ?? 0) / n).toFixed(2)} ms)` : ''}`)
    .join('\n  ');
}
