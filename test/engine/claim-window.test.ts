import { describe, expect, it } from 'vitest';
import { JobTracker, MemoryBackend } from '../../src/index.js';
import type { BackendDrivers, DispatchHandlers, JobBackend, JobChange, JobDispatcher, JobStore, RunOutcome } from '../../src/backend/index.js';
import { MemoryBus } from '../../src/memory/memory-bus.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { deferred, until } from '../helpers/deferred.js';
import { sharedStore } from './shared-store.js';

/**
 * A memory backend whose store holds back its answer to a claim (the `started` commit) until the
 * test lets it go: the commit is written at once, as on a database whose reply is still on the wire.
 */
function slowClaimBackend(release: Promise<void>, claimed: () => void): JobBackend {
  const inner = new MemoryBackend();
  return {
    open(host): BackendDrivers {
      const drivers = inner.open(host);
      const { store } = drivers;
      const slowStore: JobStore = {
        inProcess: true,
        create: (record, at, limits) => store.create(record, at, limits),
        get: (id, now) => store.get(id, now),
        commit: async (change: JobChange) => {
          const result = await store.commit(change);
          if (change.record.event === 'started') {
            claimed();
            await release;
          }
          return result;
        },
        append: (batch) => store.append(batch),
        log: (id, now) => store.log(id, now),
        list: (query) => store.list(query),
        remove: (id) => store.remove(id),
        expire: (now, limit) => store.expire(now, limit),
        counts: (now) => store.counts(now),
      };
      return { ...drivers, store: slowStore };
    },
  };
}

describe('a cancel between the claim and the start of the run', () => {
  it('reaches the run: the plugin starts with its signal aborted, and the job ends cancelled', async () => {
    const fx = createFixturePlugins();
    const release = deferred();
    let claimed = false;
    const tracker = new JobTracker({ plugins: fx.plugins, backend: slowClaimBackend(release.promise, () => (claimed = true)) });
    try {
      const job = await tracker.submit('gate', { key: 'window' });
      await until(() => claimed, 5_000, 'the claim to be written');
      // Running for everyone now, while the process that claimed it has not heard back yet.
      expect((await tracker.cancel(job.id, 'in the window')).status).toBe('cancelled');
      release.resolve();
      expect(await tracker.wait(job.id)).toMatchObject({ status: 'cancelled', error: { message: 'in the window' } });
      // The plugin got the cancel as an aborted signal, with its reason, the moment it began.
      await until(() => fx.aborted.has('window'), 5_000, 'the abort to reach the plugin');
      expect(fx.aborted.get('window')).toMatchObject({ code: 'CANCELLED', message: 'in the window' });
    } finally {
      release.resolve();
      await tracker.close({ timeoutMs: 0 });
    }
  });
});

describe('close() while a job is being claimed', () => {
  it('waits for the claim: the job gets the same grace as a running one, then is cancelled with CLOSED', async () => {
    const fx = createFixturePlugins();
    const release = deferred();
    let claimed = false;
    let stopped = false;
    const slow = slowClaimBackend(release.promise, () => (claimed = true));
    let store: JobStore | undefined;
    const backend: JobBackend = {
      open(host): BackendDrivers {
        const drivers = slow.open(host) as BackendDrivers;
        store = drivers.store;
        const { dispatcher } = drivers;
        const stop = dispatcher.stop.bind(dispatcher);
        dispatcher.stop = async () => {
          const orphans = await stop();
          stopped = true;
          return orphans;
        };
        return drivers;
      },
    };
    const tracker = new JobTracker({ plugins: fx.plugins, backend });
    try {
      const job = await tracker.submit('gate', { key: 'claimed' });
      await until(() => claimed, 5_000, 'the claim to be written');
      // Running for everyone now, while this process has not heard back from its claim.
      const closing = tracker.close({ timeoutMs: 20 });
      await until(() => stopped, 5_000, 'close() to stop the dispatcher');
      // Everything close() does without waiting for the claim is done by now: only then does the claim answer.
      release.resolve();
      await closing;
      expect(await store!.get(job.id, Date.now())).toMatchObject({ status: 'cancelled', error: { code: 'CLOSED' } });
      await until(() => fx.aborted.has('claimed'), 5_000, 'the abort to reach the plugin');
      expect(fx.aborted.get('claimed')).toMatchObject({ code: 'CLOSED' });
    } finally {
      release.resolve();
      fx.open('claimed');
      await tracker.close({ timeoutMs: 0 });
    }
  });
});

describe('close() while the store does not answer a claim', () => {
  it('the dispatcher is told the job was not taken (declined), and the job stays queued for another worker', async () => {
    let handlers: DispatchHandlers | undefined;
    const runs: Promise<RunOutcome>[] = [];
    let claims = 0;
    let store: MemoryStore | undefined;
    const backend: JobBackend = {
      open(): BackendDrivers {
        const bus = new MemoryBus();
        store = new MemoryStore(bus);
        const inner = sharedStore(store);
        const dispatcher: JobDispatcher = {
          start: async (given) => void (handlers = given),
          enqueue: async (record) => void runs.push(handlers!.run({ id: record.id, plugin: record.plugin, delivery: 1, record })),
          discard: async () => {},
          stop: async () => [],
        };
        const down: JobStore = {
          ...inner,
          commit: async (change: JobChange) => {
            if (change.record.event !== 'started') return inner.commit(change);
            claims++;
            throw new Error('the database is down');
          },
        };
        return { store: down, bus, dispatcher };
      },
    };
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, backend });
    const job = await tracker.submit('echo', { text: 'x' });
    await until(() => claims > 0, 5_000, 'the claim to fail once');
    await tracker.close({ timeoutMs: 0 });
    expect(await runs[0]).toEqual({ kind: 'declined' });
    expect(await store!.get(job.id, Date.now())).toMatchObject({ status: 'queued' });
  });
});
