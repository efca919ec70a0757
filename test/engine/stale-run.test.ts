import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type PluginContext } from '../../src/index.js';
import type { BackendDrivers, BackendHost, DispatchHandlers, JobBackend, JobDispatcher, JobRecord, RunOutcome } from '../../src/backend/index.js';
import { MemoryBus } from '../../src/memory/memory-bus.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { deferred, until } from '../helpers/deferred.js';

/**
 * A dispatcher that hands every job out once, and — when the test says so — once more, as BullMQ
 * does when the worker holding a job lost its lock but still runs it.
 */
class HandTwice implements JobDispatcher {
  handlers: DispatchHandlers | undefined;
  readonly jobs: JobRecord[] = [];
  async start(handlers: DispatchHandlers): Promise<void> {
    this.handlers = handlers;
  }
  async enqueue(record: JobRecord): Promise<void> {
    this.jobs.push(record);
    void this.handlers?.run({ id: record.id, plugin: record.plugin, delivery: 1, record });
  }
  /** Hand a job out again, as to another worker whose lock check found it stalled. */
  again(record: JobRecord): Promise<RunOutcome> {
    return this.handlers!.run({ id: record.id, plugin: record.plugin, delivery: 2, record: undefined });
  }
  async discard(): Promise<void> {}
  async stop(): Promise<string[]> {
    return [];
  }
}

describe('a job handed out again while its first run still lives', () => {
  it('the stale run can record nothing: its next write aborts its plugin, and the job ends once, by the new run', async () => {
    const runs: { ctx: PluginContext<unknown>; finish: ReturnType<typeof deferred<string>> }[] = [];
    const plugin = definePlugin({
      name: 'held',
      input: z.object({}),
      run: (_input, ctx) => {
        const finish = deferred<string>();
        runs.push({ ctx: ctx as PluginContext<unknown>, finish });
        return finish.promise;
      },
    });
    const dispatcher = new HandTwice();
    const backend: JobBackend = {
      open(_host: BackendHost): BackendDrivers {
        const bus = new MemoryBus();
        return { store: new MemoryStore(bus), bus, dispatcher };
      },
    };
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), backend });
    try {
      const ends: string[] = [];
      tracker.on('job:completed', (event) => ends.push(`completed ${String(event.job.result)}`));
      tracker.on('job:failed', () => ends.push('failed'));
      const job = await tracker.submit('held', {});
      await until(() => runs.length === 1, 5_000, 'the first run to start');
      void dispatcher.again(dispatcher.jobs[0]!);
      await until(() => runs.length === 2, 5_000, 'the second run to start');
      const [stale, current] = runs as [(typeof runs)[0], (typeof runs)[0]];
      // The events say it was handed out again.
      const snapshot = await tracker.get(job.id);
      expect(snapshot?.status).toBe('running');
      // The stale run's next write finds the job changed: it stops, and its plugin is aborted.
      stale.ctx.progress(50, 'from the stale run');
      await until(() => stale.ctx.signal.aborted, 5_000, 'the stale run to be aborted');
      expect(current.ctx.signal.aborted).toBe(false);
      stale.finish.resolve('stale');
      current.finish.resolve('current');
      const done = await tracker.wait(job.id);
      expect(done).toMatchObject({ status: 'completed', result: 'current' });
      expect(done.message).not.toBe('from the stale run');
      await until(() => ends.length === 1, 5_000, 'the end to be heard');
      expect(ends).toEqual(['completed current']);
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });
});
