import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker, LocalPluginManager } from '../../src/index.js';
import { ISOLATION_PLUGINS, isolationPlugins } from '../helpers/isolation.js';

const fixtures = await isolationPlugins();

describe.each(['thread', 'process'] as const)('retries of a plugin isolated in a %s', (isolation) => {
  let tracker: JobTracker | undefined;
  afterEach(async () => {
    await tracker?.close({ timeoutMs: 1_000 });
    tracker = undefined;
  });

  function start(): JobTracker {
    const plugins = new LocalPluginManager();
    plugins.register(fixtures.retrier!, {}, { isolation, module: ISOLATION_PLUGINS.href });
    tracker = new JobTracker({ plugins });
    return tracker;
  }

  it('ctx.attempt crosses the boundary: a plugin failing twice completes on its third try', async () => {
    const t = start();
    const job = await t.submit('retrier', { failFirst: 2 }, { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } });
    const done = await t.wait(job.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: 'completed', attempt: 3, result: { attempt: 3 }, lastError: { code: 'PLUGIN_FAILED', message: 'try 2 failed' } });
  });

  it('a NonRetryableError thrown across the boundary fails at once', async () => {
    const t = start();
    const job = await t.submit('retrier', { fatal: true }, { attempts: 3, backoff: { type: 'fixed', delayMs: 10 } });
    const done = await t.wait(job.id, { timeoutMs: 30_000 });
    expect(done).toMatchObject({ status: 'failed', attempt: 1, error: { code: 'PLUGIN_FAILED', message: 'fatal on try 1' } });
  });
});
