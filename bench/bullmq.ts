/**
 * 5. BullMQ backend throughput against raw BullMQ: same database, same concurrency, same run. A
 * no-op job, submit → completed, both in one process (queue and worker), submits awaited one by
 * one, alternating rounds, medians. `--postgres` runs the pair on BullMQ's PostgreSQL backend
 * instead of Redis. Each round also counts what the process sent to the database (see
 * round-trips.ts), per job.
 */
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from 'jobwire';
import { BullMQBackend } from 'jobwire/bullmq';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../test/helpers/postgres.js';
import { deleteKeys, redisAnswers } from '../test/helpers/redis.js';
import { median, QUICK, report, round, target } from './lib.js';
import { countRoundTrips, takeSent, topKinds, type Sent } from './round-trips.js';

const POSTGRES = process.argv.includes('--postgres');
const JOBS = QUICK ? 500 : POSTGRES ? 1_000 : 3_000;
const ROUNDS = QUICK ? 2 : 5;
const CONCURRENCY = 5;
// BullMQ on PostgreSQL keys a queue by its name alone: the prefix starts every queue name too.
const prefix = `jobwirebench${process.pid}`;
const database = POSTGRES ? 'PostgreSQL' : 'Redis';
let round_ = 0;

countRoundTrips();

/** BullMQ's queue and worker options for this database. */
async function bullSide(): Promise<{ options: { connection: never; prefix: string }; factory: unknown; close: () => Promise<unknown> }> {
  if (POSTGRES) {
    const bullmq = await import('bullmq');
    return { options: { connection: { connectionString: POSTGRES_URL, migrate: true } as never, prefix }, factory: bullmq.createPostgresBackend, close: async () => undefined };
  }
  const connection = new Redis('redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
  return { options: { connection: connection as never, prefix }, factory: undefined, close: () => connection.quit() };
}

interface Round {
  ms: number;
  sent: Sent;
}

async function raw(): Promise<Round> {
  const name = `${prefix}-raw-${++round_}`;
  const side = await bullSide();
  const queue = new Queue(name, side.options, side.factory as never);
  let completed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  const worker = new Worker(name, async () => ({ ok: true }), { ...side.options, concurrency: CONCURRENCY }, side.factory as never);
  worker.on('completed', () => ++completed === JOBS && finish());
  await Promise.all([worker.waitUntilReady(), queue.waitUntilReady()]);
  takeSent();
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await queue.add('noop', { i }, { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } });
  await finished;
  const ms = performance.now() - start;
  const sent = takeSent();
  await worker.close();
  await queue.close();
  await side.close();
  return { ms, sent };
}

async function ours(): Promise<Round> {
  const name = `${prefix}-jobwire-${++round_}`;
  const plugin = definePlugin({ name: 'noop', input: z.object({ i: z.number() }), run: async () => ({ ok: true }) });
  const connection = POSTGRES ? POSTGRES_URL : 'redis://127.0.0.1:6379';
  const backend = new BullMQBackend({ connection, queueName: name, prefix, role: 'both', concurrency: CONCURRENCY });
  const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), backend });
  await backend.ready();
  let completed = 0;
  let finish!: () => void;
  const finished = new Promise<void>((resolve) => (finish = resolve));
  tracker.on('job:completed', () => ++completed === JOBS && finish());
  takeSent();
  const start = performance.now();
  for (let i = 0; i < JOBS; i++) await tracker.submit('noop', { i });
  await finished;
  const ms = performance.now() - start;
  const sent = takeSent();
  await tracker.close();
  return { ms, sent };
}

const up = POSTGRES ? await postgresAnswers() : await redisAnswers();
if (!up) {
  report({ name: POSTGRES ? 'bullmq-postgres' : 'bullmq', line: `BullMQ throughput on ${database}: skipped, no ${database} on 127.0.0.1`, figures: { skipped: true } });
} else {
  const rawRounds: Round[] = [];
  const ourRounds: Round[] = [];
  await raw(); // warm-up
  await ours();
  for (let i = 0; i < ROUNDS; i++) {
    rawRounds.push(await raw());
    ourRounds.push(await ours());
  }
  if (POSTGRES) await deleteQueues(prefix);
  else await deleteKeys(prefix);
  const rawMs = rawRounds.map((r) => r.ms);
  const ourMs = ourRounds.map((r) => r.ms);
  const rawRate = JOBS / (median(rawMs) / 1000);
  const ourRate = JOBS / (median(ourMs) / 1000);
  const ratio = ourRate / rawRate;
  const perJob = (rounds: Round[], pick: (s: Sent) => number): number => round(median(rounds.map((r) => pick(r.sent) / JOBS)), 2);
  const ourTrips = perJob(ourRounds, (s) => s.roundTrips);
  const rawTrips = perJob(rawRounds, (s) => s.roundTrips);
  const unit = POSTGRES ? 'statements' : 'round trips';
  const tripsOk = ourTrips <= rawTrips + 1;
  console.log(`jobwire sends per job:\n  ${topKinds(ourRounds.at(-1)!.sent, JOBS, 20)}`);
  console.log(`raw BullMQ sends per job:\n  ${topKinds(rawRounds.at(-1)!.sent, JOBS, 20)}`);
  const ourCommands = perJob(ourRounds, (s) => s.commands);
  const rawCommands = perJob(rawRounds, (s) => s.commands);
  // Pipelined commands make more commands than round trips: then both are shown.
  const commands = ourCommands === ourTrips && rawCommands === rawTrips ? '' : ` (commands: jobwire ${ourCommands}, raw BullMQ ${rawCommands})`;
  report({
    name: POSTGRES ? 'bullmq-postgres' : 'bullmq',
    line:
      `BullMQ backend on ${database} (${JOBS} no-op jobs, concurrency ${CONCURRENCY}, loopback): jobwire ${Math.round(ourRate)} jobs/s, raw BullMQ ${Math.round(rawRate)} jobs/s → ${round(ratio)}× (target ≥ 0.8×: ${target(ratio >= 0.8)}); ` +
      `${unit} per job: jobwire ${ourTrips}, raw BullMQ ${rawTrips}${commands} (target ≤ raw + 1: ${target(tripsOk)})`,
    figures: {
      database,
      jobs: JOBS,
      rounds: ROUNDS,
      jobwireJobsPerSec: Math.round(ourRate),
      bullmqJobsPerSec: Math.round(rawRate),
      ratio: round(ratio, 3),
      jobwireMs: ourMs.map((t) => round(t)),
      bullmqMs: rawMs.map((t) => round(t)),
      jobwireRoundTripsPerJob: ourTrips,
      bullmqRoundTripsPerJob: rawTrips,
      jobwireCommandsPerJob: ourCommands,
      bullmqCommandsPerJob: rawCommands,
    },
  });
}
