import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isJobwireError, JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins, type FixturePlugins } from '../../src/testing/index.js';
import { collect, until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { expectCancelReachesRunAfterGap } from './cancel-in-gap.js';
import { startGateProxy, type GateProxy } from './gate-proxy.js';

const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: PostgreSQL fault tests — no PostgreSQL answers on 127.0.0.1:5432');

/** This run's connections carry this application name: the faults hit them and no one else's. */
const app = `jwfault${process.pid}${Date.now().toString(36)}`;
const prefix = app;
const url = `${POSTGRES_URL}${POSTGRES_URL.includes('?') ? '&' : '?'}application_name=${app}`;

async function admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Terminate every connection of this run (what a restart, a failover or an idle kill does to them). */
async function dropConnections(): Promise<number> {
  return admin(async (client) => {
    const { rowCount } = await client.query('SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()', [app]);
    return rowCount ?? 0;
  });
}

describe.skipIf(!postgresUp)('faults: PostgreSQL connections dropped (pg_terminate_backend)', () => {
  let tracker: JobTracker | undefined;
  let fx: FixturePlugins;
  let queue = 0;

  function open(options: { maxQueued?: number } = {}): JobTracker {
    fx = createFixturePlugins();
    tracker = new JobTracker({
      plugins: fx.plugins,
      storeTimeoutMs: 3_000,
      ...options,
      backend: new BullMQBackend({ connection: url, queueName: `${prefix}-q${++queue}`, prefix, role: 'both', concurrency: 4, stalled: { lockDurationMs: 5_000, stalledIntervalMs: 1_000 } }),
    });
    return tracker;
  }

  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    tracker = undefined;
  });
  afterAll(() => deleteQueues(prefix));

  /**
   * Submits in flight (and `alsoInFlight` calls beside them) while every connection of this run is
   * terminated, `rounds` times: each submit answers a job or `UNAVAILABLE`, and every accepted job ends.
   */
  async function dropUnderLoad(t: JobTracker, rounds: number, alsoInFlight: () => Promise<unknown> = () => Promise.resolve()): Promise<void> {
    // What would have crashed a real process (an 'error' event nobody listens to) fails this test.
    const crashes: unknown[] = [];
    const crashed = (error: unknown): void => void crashes.push(error);
    process.on('uncaughtException', crashed);
    try {
      await dropAndCheck(t, rounds, alsoInFlight);
    } finally {
      process.off('uncaughtException', crashed);
    }
    expect(crashes.map(String)).toEqual([]);
  }

  async function dropAndCheck(t: JobTracker, rounds: number, alsoInFlight: () => Promise<unknown>): Promise<void> {
    await t.wait((await t.submit('echo', { text: 'warm' })).id, { timeoutMs: 20_000 });
    // Each submit's outcome is taken as it comes, while connections keep dropping.
    const submits: Promise<{ id: string } | { error: unknown }>[] = [];
    const others: Promise<unknown>[] = [];
    let dropped = 0;
    for (let round = 0; round < rounds; round++) {
      for (let i = 0; i < 20; i++) submits.push(t.submit('echo', { text: `${round}-${i}` }).then((job) => ({ id: job.id }), (error: unknown) => ({ error })));
      others.push(alsoInFlight().catch(() => undefined));
      dropped += await dropConnections();
    }
    expect(dropped).toBeGreaterThan(0);
    const outcomes = await Promise.all(submits);
    await Promise.all(others);
    const accepted = outcomes.flatMap((outcome) => ('id' in outcome ? [outcome.id] : []));
    for (const outcome of outcomes) {
      if ('error' in outcome) expect(isJobwireError(outcome.error) && outcome.error.code, String(outcome.error)).toBe('UNAVAILABLE');
    }
    expect(accepted.length).toBeGreaterThan(0);
    for (const id of accepted) {
      const done = await t.wait(id, { timeoutMs: 30_000 }).catch(async (error: unknown) => {
        // Say where a job that never ended was stuck.
        throw new Error(`job ${id} did not end: ${String(error)}; now ${JSON.stringify(await t.get(id))}`);
      });
      expect(done.status).toBe('completed');
    }
  }

  it('under load: the process survives, every submit answers (a job or a typed error), and every accepted job ends', async () => {
    await dropUnderLoad(open(), 5);
  }, 120_000);

  it('under load with a finite maxQueued: connections dropped while checked out of the pool (a create is then a transaction, as is the sweep) do not crash the process', async () => {
    // Each create holds a client for BEGIN … COMMIT; so does each sweep (stats() sweeps first).
    // A client terminated while checked out emits 'error' with no pool listener on it.
    const t = open({ maxQueued: 100_000 });
    // A checked-out client is hit in a few rounds out of ten: ten make a miss unlikely.
    await dropUnderLoad(t, 10, () => t.stats());
  }, 120_000);

  it('while idle: events, wait, listeners and cancels work again within seconds', async () => {
    const t = open();
    const heard: string[] = [];
    t.on('job:completed', (event) => heard.push(event.jobId));
    await t.wait((await t.submit('echo', { text: 'before' })).id, { timeoutMs: 20_000 });
    expect(await dropConnections()).toBeGreaterThan(0);
    // The LISTEN connection comes back by itself: a job run after the drop is heard, live.
    let done: string | undefined;
    await until(async () => {
      try {
        const job = await t.submit('echo', { text: 'after' });
        done = (await t.wait(job.id, { timeoutMs: 5_000 })).status;
        return heard.includes(job.id);
      } catch {
        return false; // still reconnecting: try again
      }
    }, 30_000, 'a job submitted after the drop to be heard live');
    expect(done).toBe('completed');
    // A cancel travels by NOTIFY too, to the process that runs the job (this one).
    const job = await t.submit('gate', { key: 'after-drop' });
    await until(async () => (await t.get(job.id))?.status === 'running', 20_000, 'the job to run');
    expect((await t.cancel(job.id, 'after the drop')).status).toBe('cancelled');
    await until(() => fx.aborted.has('after-drop'), 20_000, 'the cancel to reach the plugin');
  }, 120_000);

  it('a cancel sent while the LISTEN connection is down reaches the running plugin once the bus is back, and frees its slot', async () => {
    // The worker reaches PostgreSQL through a proxy that can hold its reconnect: the cancel is
    // surely sent while nothing of the worker listens, however slow the machine.
    const target = new URL(POSTGRES_URL);
    const gate: GateProxy = await startGateProxy({ host: target.hostname, port: Number(target.port || 5432) });
    const workerApp = `${app}w`;
    const proxied = new URL(POSTGRES_URL);
    proxied.hostname = '127.0.0.1';
    proxied.port = String(gate.port);
    proxied.searchParams.set('application_name', workerApp);
    const queueName = `${prefix}-gap${++queue}`;
    fx = createFixturePlugins();
    const worker = new JobTracker({
      plugins: fx.plugins,
      backend: new BullMQBackend({ connection: proxied.href, queueName, prefix, role: 'both', concurrency: 1 }),
    });
    tracker = worker;
    const producer = new JobTracker({ plugins: createFixturePlugins().plugins, backend: new BullMQBackend({ connection: url, queueName, prefix, role: 'producer' }) });
    const listening = (): Promise<number> =>
      admin(async (client) => {
        const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN jobwire_events'", [workerApp]);
        return Number(rows[0]?.n ?? 0);
      });
    try {
      const job = await worker.submit('gate', { key: 'gap' });
      await until(() => fx.started.includes('gap'), 20_000, 'the job to run');
      // Followed in the worker's process across the gap: the events it misses are read from the log on resync.
      const followed = collect(worker.events(job.id));
      const waited = worker.wait(job.id, { timeoutMs: 60_000 });
      expect(await listening()).toBe(1);
      gate.hold();
      const terminated = await admin(async (client) => {
        // Waits (up to 10 s) for the backend to be gone: from then on, nothing of the worker hears a NOTIFY.
        const { rows } = await client.query<{ gone: boolean }>("SELECT pg_terminate_backend(pid, 10000) AS gone FROM pg_stat_activity WHERE application_name = $1 AND query = 'LISTEN jobwire_events'", [workerApp]);
        return rows.map((row) => row.gone);
      });
      expect(terminated).toEqual([true]);
      await until(() => gate.waiting > 0, 20_000, 'the worker to try to reconnect');
      expect((await producer.cancel(job.id, 'during the gap')).status).toBe('cancelled');
      expect(await listening()).toBe(0); // the cancel's NOTIFY reached no connection of the worker
      expect(fx.aborted.has('gap')).toBe(false);
      await expectCancelReachesRunAfterGap({ gate, fx, worker, producer, jobId: job.id, followed, waited });
    } finally {
      gate.release();
      fx.open('gap');
      await producer.close({ timeoutMs: 0 });
      await worker.close({ timeoutMs: 0 });
      tracker = undefined;
      await gate.dispose();
    }
  }, 120_000);
});
