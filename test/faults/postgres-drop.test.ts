import pg from 'pg';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { isJobwireError, JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { createFixturePlugins, type FixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';

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

  function open(): JobTracker {
    fx = createFixturePlugins();
    tracker = new JobTracker({
      plugins: fx.plugins,
      storeTimeoutMs: 3_000,
      backend: new BullMQBackend({ connection: url, queueName: `${prefix}-q${++queue}`, prefix, role: 'both', concurrency: 4, stalled: { lockDurationMs: 5_000, stalledIntervalMs: 1_000 } }),
    });
    return tracker;
  }

  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    tracker = undefined;
  });
  afterAll(() => deleteQueues(prefix));

  it('under load: the process survives, every submit answers (a job or a typed error), and every accepted job ends', async () => {
    const t = open();
    await t.wait((await t.submit('echo', { text: 'warm' })).id, { timeoutMs: 20_000 });
    // Each submit's outcome is taken as it comes, while connections keep dropping.
    const submits: Promise<{ id: string } | { error: unknown }>[] = [];
    let dropped = 0;
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 20; i++) submits.push(t.submit('echo', { text: `${round}-${i}` }).then((job) => ({ id: job.id }), (error: unknown) => ({ error })));
      dropped += await dropConnections();
    }
    expect(dropped).toBeGreaterThan(0);
    const outcomes = await Promise.all(submits);
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
});
