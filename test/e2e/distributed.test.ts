import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../src/index.js';
import { until } from '../helpers/deferred.js';
import { startExample, type ExampleProcess } from '../helpers/example-process.js';
import { isAlive } from '../helpers/isolation.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { deleteKeys, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { parseSSE } from '../helpers/sse.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: distributed example on Redis — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');
const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: distributed example on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');
const prefix = uniquePrefix();

describe.each([
  { name: 'Redis', up: redisUp, env: {}, cleanup: () => deleteKeys(prefix) },
  { name: 'PostgreSQL', up: postgresUp, env: { POSTGRES_URL }, cleanup: () => deleteQueues(prefix) },
])('the distributed example on $name: one API process, two workers', (database) => {
  let example: ExampleProcess;

  beforeAll(async () => {
    if (database.up) example = await startExample('distributed/start.ts', { ...database.env, REDIS_PREFIX: prefix, QUEUE_NAME: `${prefix}-example` });
  }, 90_000);
  afterAll(async () => {
    if (!database.up) return;
    expect(await example?.stop()).toBe(0);
    await database.cleanup();
  });

  it.skipIf(!database.up)('runs jobs in the workers and streams them from the API process', { timeout: 60_000 }, async () => {
    const created = await fetch(`${example.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"steps","input":{"steps":3,"stepMs":50}}' });
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobSnapshot;
    const { events } = parseSSE(await (await fetch(`${example.url}/jobs/${job.id}/events`)).text());
    expect(events.at(-1)?.event).toBe('completed');
    expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ job: { result: { steps: 3, label: 'step' } } });
    expect((await fetch(`${example.url}/jobs/${job.id}/events`, { headers: { 'last-event-id': events.at(-1)!.id! } })).status).toBe(204);
  });

  it.skipIf(!database.up)('a cancel through the API kills the child process in whichever worker runs it', { timeout: 60_000 }, async () => {
    const job = (await (await fetch(`${example.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"child-process","input":{"seconds":30}}' })).json()) as JobSnapshot;
    let pid = 0;
    await until(
      async () => {
        const current = (await (await fetch(`${example.url}/jobs/${job.id}`)).json()) as JobSnapshot;
        pid = Number(/^pid (\d+)$/.exec(current.message ?? '')?.[1] ?? 0);
        return pid > 0;
      },
      30_000,
      'the program to start',
    );
    expect(isAlive(pid)).toBe(true);
    const cancelled = await fetch(`${example.url}/jobs/${job.id}`, { method: 'DELETE' });
    expect(((await cancelled.json()) as JobSnapshot).status).toBe('cancelled');
    await until(() => !isAlive(pid), 15_000, `program ${pid} to be gone`);
  });
});
