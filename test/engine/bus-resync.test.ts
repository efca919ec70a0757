import { describe, expect, it } from 'vitest';
import { JobTracker } from '../../src/index.js';
import type { BackendDrivers, BackendHost, BusHandlers, JobBackend, JobRecord, LoggedEvent } from '../../src/backend/index.js';
import { MemoryBus } from '../../src/memory/memory-bus.js';
import { MemoryDispatcher } from '../../src/memory/memory-dispatcher.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';

/**
 * An in-process bus that can go deaf, as a pub/sub connection does while it reconnects: what is
 * published meanwhile is lost, and `reconnect()` then asks the engine to resync, as every
 * distributed bus does once it listens again.
 */
class DeafBus extends MemoryBus {
  deaf = false;
  #handlers: BusHandlers | undefined;

  override subscribe(handlers: BusHandlers): Promise<void> {
    this.#handlers = handlers;
    return super.subscribe(handlers);
  }

  override event(event: LoggedEvent): void {
    if (!this.deaf) super.event(event);
  }

  override removed(record: JobRecord): void {
    if (!this.deaf) super.removed(record);
  }

  reconnect(): void {
    this.deaf = false;
    this.#handlers?.resync();
  }
}

/** A store whose reads of some jobs fail (its database is down for them), counting those reads. */
class FlakyStore extends MemoryStore {
  readonly down = new Set<string>();
  failedReads = 0;
  /** Every read, by job id. */
  readonly reads = new Map<string, number>();

  override get(id: string, now: number): Promise<JobRecord | undefined> {
    this.reads.set(id, (this.reads.get(id) ?? 0) + 1);
    if (!this.down.has(id)) return super.get(id, now);
    this.failedReads++;
    return Promise.reject(new Error('the database is down'));
  }
}

function deafBackend(): { backend: JobBackend; bus: DeafBus; store: () => FlakyStore } {
  const bus = new DeafBus();
  let store: FlakyStore | undefined;
  const backend: JobBackend = {
    open(host: BackendHost): BackendDrivers {
      store = new FlakyStore(bus);
      return { store, bus, dispatcher: new MemoryDispatcher(1, host.plugins, host.logger) };
    },
  };
  return { backend, bus, store: () => store! };
}

describe('a job that ended elsewhere while the bus was deaf', () => {
  it('cancelled during the gap: its run aborts on resync, and its slot goes to the next job', async () => {
    const fx = createFixturePlugins();
    const { backend, bus } = deafBackend();
    const tracker = new JobTracker({ plugins: fx.plugins, concurrency: 1, backend });
    try {
      const job = await tracker.submit('gate', { key: 'gap' });
      await until(() => fx.started.includes('gap'), 5_000, 'the job to run');
      bus.deaf = true;
      expect((await tracker.cancel(job.id, 'during the gap')).status).toBe('cancelled');
      // Its `cancelled` event was lost: the run does not know yet.
      expect(fx.aborted.has('gap')).toBe(false);
      const next = await tracker.submit('gate', { key: 'next' });
      bus.reconnect();
      await until(() => fx.aborted.has('gap'), 5_000, 'the run to abort after the resync');
      expect(fx.aborted.get('gap')).toMatchObject({ code: 'CANCELLED', message: 'during the gap' });
      await until(() => fx.started.includes('next'), 5_000, 'the next job to take the freed slot');
      fx.open('next');
      expect((await tracker.wait(next.id)).status).toBe('completed');
      expect((await tracker.get(job.id))?.status).toBe('cancelled');
    } finally {
      fx.open('gap');
      await tracker.close({ timeoutMs: 0 });
    }
  });

  it('removed during the gap: its run aborts on resync', async () => {
    const fx = createFixturePlugins();
    const { backend, bus, store } = deafBackend();
    const tracker = new JobTracker({ plugins: fx.plugins, concurrency: 1, backend });
    try {
      const job = await tracker.submit('gate', { key: 'gap' });
      await until(() => fx.started.includes('gap'), 5_000, 'the job to run');
      bus.deaf = true;
      // Deleted by another process, straight from the store.
      expect(await store().remove(job.id)).toBeDefined();
      expect(fx.aborted.has('gap')).toBe(false);
      bus.reconnect();
      await until(() => fx.aborted.has('gap'), 5_000, 'the run to abort after the resync');
      expect(fx.aborted.get('gap')).toMatchObject({ code: 'CANCELLED', message: 'Job removed' });
    } finally {
      fx.open('gap');
      await tracker.close({ timeoutMs: 0 });
    }
  });

  it('a run whose job did not change runs on through a resync, and ends once', async () => {
    const fx = createFixturePlugins();
    const { backend, bus, store } = deafBackend();
    const tracker = new JobTracker({ plugins: fx.plugins, concurrency: 1, backend });
    try {
      const ends: string[] = [];
      tracker.on('job:completed', (event) => ends.push(event.jobId));
      const job = await tracker.submit('gate', { key: 'steady' });
      await until(() => fx.started.includes('steady'), 5_000, 'the job to run');
      const reads = store().reads.get(job.id) ?? 0;
      bus.deaf = true;
      bus.reconnect();
      // The resync read the job; once its answer has been acted on (a turn of the loop later), the run still runs.
      expect(store().reads.get(job.id)).toBe(reads + 1);
      await new Promise((resolve) => setImmediate(resolve));
      expect(fx.aborted.has('steady')).toBe(false);
      fx.open('steady');
      expect(await tracker.wait(job.id)).toMatchObject({ status: 'completed', result: { opened: 'steady' } });
      expect(fx.aborted.has('steady')).toBe(false);
      expect(ends).toEqual([job.id]);
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });

  it('a burst of resyncs while the store fails reads each running job once at a time, and that re-check goes on until the store answers', async () => {
    const fx = createFixturePlugins();
    const { backend, bus, store } = deafBackend();
    const tracker = new JobTracker({ plugins: fx.plugins, concurrency: 1, backend });
    try {
      const job = await tracker.submit('gate', { key: 'burst' });
      await until(() => fx.started.includes('burst'), 5_000, 'the job to run');
      store().down.add(job.id);
      bus.deaf = true;
      for (let i = 0; i < 5; i++) bus.reconnect();
      // Each re-check reads at once: five resyncs, one read (the others wait for it).
      expect(store().failedReads).toBe(1);
      bus.deaf = true;
      expect((await tracker.cancel(job.id, 'while the store was down')).status).toBe('cancelled');
      store().down.delete(job.id);
      // The re-check tries again after its backoff, finds the job cancelled, and the run aborts.
      await until(() => fx.aborted.has('burst'), 10_000, 'the run to abort once the store answers');
      expect(fx.aborted.get('burst')).toMatchObject({ code: 'CANCELLED', message: 'while the store was down' });
    } finally {
      fx.open('burst');
      await tracker.close({ timeoutMs: 0 });
    }
  });
});
