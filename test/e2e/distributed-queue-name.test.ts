import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../src/index.js';
import { uniqueQueueName } from '../../examples/distributed/config.js';
import { startExample } from '../helpers/example-process.js';
import { deleteKeys, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { parseSSE } from '../helpers/sse.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: the distributed example without QUEUE_NAME — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');
const root = resolve(import.meta.dirname, '../..');

describe('the distributed example keeps off other people’s queues', () => {
  it('makes up a queue name per start: host name and a random suffix', () => {
    const names = new Set([uniqueQueueName(), uniqueQueueName(), uniqueQueueName()]);
    expect(names.size).toBe(3);
    for (const name of names) expect(name).toMatch(/^jobwire-demo-[A-Za-z0-9-]+-[a-z0-9]{1,6}$/);
  });

  it.skipIf(!redisUp)('npm run distributed without QUEUE_NAME prints its own queue, and its API and workers share it', async () => {
    expect(process.env.QUEUE_NAME, 'this test needs QUEUE_NAME unset').toBeUndefined();
    const prefix = uniquePrefix();
    const example = await startExample('distributed/start.ts', { REDIS_PREFIX: prefix });
    try {
      const name = /^queue (\S+) on /m.exec(example.output())?.[1];
      expect(name).toMatch(/^jobwire-demo-/);
      const created = await fetch(`${example.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"steps","input":{"steps":2,"stepMs":10}}' });
      const job = (await created.json()) as JobSnapshot;
      const { events } = parseSSE(await (await fetch(`${example.url}/jobs/${job.id}/events`)).text());
      expect(events.at(-1)?.event).toBe('completed');
      expect(example.output()).toContain(`ready on queue ${name}`);
    } finally {
      expect(await example.stop()).toBe(0);
      await deleteKeys(prefix);
    }
  }, 60_000);

  it('api.ts and worker.ts started on their own refuse to start without QUEUE_NAME', async () => {
    const { QUEUE_NAME: _ignored, ...env } = process.env;
    for (const file of ['api.ts', 'worker.ts']) {
      const outcome = await new Promise<{ code: number | null; stderr: string }>((done) => {
        execFile(resolve(root, 'node_modules/.bin/tsx'), [resolve(root, 'examples/distributed', file)], { cwd: root, env: { ...env, PORT: '0' } }, (error, _stdout, stderr) =>
          done({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stderr }),
        );
      });
      expect(outcome, file).toEqual({ code: 1, stderr: expect.stringContaining('Set QUEUE_NAME: every API and worker process of one deployment must use the same queue') });
    }
  }, 30_000);
});
