import { describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import type { BackendDrivers, BackendHost, JobBackend } from '../../src/backend/index.js';
import { MemoryBus } from '../../src/memory/memory-bus.js';
import { MemoryDispatcher } from '../../src/memory/memory-dispatcher.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import { recordingLogger, sharedStore } from './shared-store.js';

describe('close() when the dispatcher fails to stop', () => {
  it('logs the failure and still cancels the running jobs and closes the bus and the connections', async () => {
    const fx = createFixturePlugins();
    const logger = recordingLogger();
    const closed: string[] = [];
    let store: MemoryStore | undefined;
    const backend: JobBackend = {
      open(host: BackendHost): BackendDrivers {
        const bus = new (class extends MemoryBus {
          override close(): Promise<void> {
            closed.push('bus');
            return super.close();
          }
        })();
        store = new MemoryStore(bus);
        const dispatcher = new MemoryDispatcher(2, host.plugins, host.logger);
        const stop = dispatcher.stop.bind(dispatcher);
        dispatcher.stop = async () => {
          await stop();
          throw new Error('the queue connection is gone');
        };
        return { store: sharedStore(store), bus, dispatcher, close: async () => void closed.push('drivers') };
      },
    };
    const tracker = new JobTracker({ plugins: fx.plugins, logger, backend });
    const job = await tracker.submit('gate', { key: 'running' });
    await until(() => fx.started.includes('running'), 5_000, 'the job to run');
    await tracker.close({ timeoutMs: 0 });
    expect(logger.lines.filter((line) => line.level === 'warn').map((line) => line.msg)).toEqual([expect.stringContaining('the queue connection is gone')]);
    // The rest of the shutdown happened: the running job was cancelled (its plugin aborted), then the bus and the connections closed.
    expect(fx.aborted.get('running')).toMatchObject({ code: 'CLOSED' });
    expect(await store!.get(job.id, Date.now())).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
    expect(closed).toEqual(['bus', 'drivers']);
  });
});
