import { afterAll, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { until } from '../helpers/deferred.js';
import { ISOLATION_PLUGINS, isolationPlugins, lineLogger } from '../helpers/isolation.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: isolated plugins on the BullMQ backend — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');

const prefix = uniquePrefix();
const fixtures = await isolationPlugins();

describe.skipIf(!redisUp)('isolated plugins on the BullMQ backend', () => {
  const plugins = new LocalPluginManager()
    .register(fixtures.identity!, undefined, { isolation: 'thread', module: ISOLATION_PLUGINS })
    .register(fixtures.crash!, undefined, { isolation: 'thread', module: ISOLATION_PLUGINS })
    // Grace long enough for the abort's log line to cross back on a loaded machine before the hard stop.
    .register(fixtures.stubborn!, undefined, { isolation: 'process', module: ISOLATION_PLUGINS, cancelGraceMs: 1_000 });
  const { lines, logger } = lineLogger();
  const tracker = new JobTracker({ plugins, logger, concurrency: 1, backend: new BullMQBackend({ connection: REDIS_URL, queueName: 'isolation', prefix, role: 'both' }) });

  afterAll(async () => {
    await tracker.close({ timeoutMs: 0 });
    await plugins.close();
    await deleteKeys(prefix);
  });

  it('a worker runs a thread plugin, and a crash inside one fails only that job', async () => {
    const done = await tracker.wait((await tracker.submit('identity', { note: 'bull' })).id);
    expect(done.status).toBe('completed');
    expect((done.result as { threadId: number }).threadId).toBeGreaterThan(0);
    const crashed = await tracker.wait((await tracker.submit('crash', { kind: 'exit' })).id);
    expect(crashed).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message: expect.stringMatching(/process\.exit\(7\)/) } });
    expect((await tracker.wait((await tracker.submit('identity', {})).id)).status).toBe('completed');
  });

  it('a cancel reaches a process plugin, which is stopped hard after its grace and frees the worker slot', async () => {
    const stubborn = await tracker.submit('stubborn', {});
    await until(() => lines.some((line) => line.startsWith('worker ')), 30_000, 'the plugin to start');
    const next = await tracker.submit('identity', {});
    expect((await tracker.cancel(stubborn.id)).status).toBe('cancelled');
    expect((await tracker.wait(next.id)).status).toBe('completed');
    expect(lines).toContain('abort seen: CANCELLED');
  });
});
