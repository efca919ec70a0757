import { answers } from './probe.js';

export const POSTGRES_URL = process.env.JOBWIRE_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Whether a PostgreSQL answers on 127.0.0.1:5432 (a TCP connect, within a second). */
export const postgresAnswers = (): Promise<boolean> => answers(5432);

/** Delete the rows of every queue whose name starts with `prefix` (jobwire's `prefix:…` and BullMQ's `prefix-…`). */
export async function deleteQueues(prefix: string): Promise<void> {
  const pg = await import('pg');
  const client = new pg.default.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    const like = `${prefix}%`;
    await client.query('DELETE FROM jobwire.job_events WHERE queue LIKE $1', [like]).catch(() => undefined);
    await client.query('DELETE FROM jobwire.job_records WHERE queue LIKE $1', [like]).catch(() => undefined);
    for (const table of ['job', 'event', 'meta', 'job_log', 'metrics', 'dedup', 'dedup_next', 'job_dependency', 'rate_limit', 'scheduler']) {
      await client.query(`DELETE FROM bullmq.${table} WHERE queue LIKE $1`, [like]).catch(() => undefined);
    }
  } finally {
    await client.end();
  }
}
