import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/index.js';
import { PostgresJobStore } from '../../src/bullmq/postgres-store.js';
import { POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { sleep } from '../helpers/deferred.js';

const available = await postgresAnswers();
if (!available) console.warn('PostgreSQL is not running on 127.0.0.1:5432: skipping the PostgreSQL migration test');
const pg = available ? (await import('pg')).default : undefined;

describe.runIf(available)('PostgreSQL job store migration', () => {
  let pool: import('pg').Pool;
  let holder: import('pg').Client;

  beforeAll(async () => {
    pool = new pg!.Pool({ connectionString: POSTGRES_URL, max: 2 });
    await new PostgresJobStore(pool, 'jw-migrate', `q-${process.pid}`, silentLogger).migrate(); // the schema is current from here on
    holder = new pg!.Client({ connectionString: POSTGRES_URL });
    await holder.connect();
  });
  afterAll(async () => {
    await holder?.query('ROLLBACK').catch(() => undefined);
    await holder?.end();
    await pool?.end();
  });

  it('a process starting while workers write takes no lock on the tables once the schema is current', async () => {
    // A worker's transaction holds the row-exclusive lock every write takes.
    await holder.query('BEGIN');
    await holder.query("UPDATE jobwire.job_records SET seq = seq WHERE queue = 'jw-migrate-none'");
    const migrating = new PostgresJobStore(pool, 'jw-migrate', `q-${process.pid}-2`, silentLogger).migrate().then(() => 'done' as const);
    // Either it finishes, or its DDL waits for the worker's lock (which it would then hold up, or deadlock on).
    for (;;) {
      const state = await Promise.race([migrating, sleep(50).then(() => 'pending' as const)]);
      if (state === 'done') break;
      const { rows } = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE '%jobwire.job_records%' AND pid <> pg_backend_pid()",
      );
      expect(Number(rows[0]?.n), 'the migration waits for a lock held by a running worker').toBe(0);
    }
    await holder.query('ROLLBACK');
  });
});
