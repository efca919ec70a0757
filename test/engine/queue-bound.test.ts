import { describe, expect, it } from 'vitest';
import { isJobwireError, JobTracker } from '../../src/index.js';
import type { BackendDrivers, BackendHost, JobBackend, JobDispatcher, JobStore } from '../../src/backend/index.js';
import { MemoryBus } from '../../src/memory/memory-bus.js';
import { MemoryStore } from '../../src/memory/memory-store.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { rejection, until } from '../helpers/deferred.js';
import { sharedStore } from './shared-store.js';

const never = (): Promise<void> => new Promise<void>(() => {});

/** A dispatcher whose queue never answers (its database is down), for `enqueue` or for `discard`. */
function hangingDispatcher(ordered: boolean, hangs: 'enqueue' | 'discard' = 'enqueue'): JobDispatcher {
  return {
    ordered,
    start: async () => {},
    enqueue: hangs === 'enqueue' ? never : async () => {},
    discard: hangs === 'discard' ? never : async () => {},
    stop: async () => [],
  };
}

function backendWith(dispatcher: JobDispatcher, wrap: (store: MemoryStore) => JobStore = sharedStore): { backend: JobBackend; store: () => MemoryStore } {
  let store: MemoryStore | undefined;
  const backend: JobBackend = {
    open(_host: BackendHost): BackendDrivers {
      const bus = new MemoryBus();
      store = new MemoryStore(bus);
      return { store: wrap(store), bus, dispatcher };
    },
  };
  return { backend, store: () => store! };
}

/**
 * `submitting` fails `UNAVAILABLE`, and once every time bound set for it (none longer than
 * `boundMs`, all set before it answered) has fired, no promise was left rejected unhandled.
 */
async function failsUnavailableLeavingNothingUnhandled(submitting: Promise<unknown>, boundMs: number): Promise<void> {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
  process.on('unhandledRejection', onUnhandled);
  try {
    const error = await rejection(submitting);
    expect(isJobwireError(error) && error.code, String(error)).toBe('UNAVAILABLE');
    // A timer set now fires after those bounds; the turn after it, an unhandled rejection has been reported.
    await new Promise((resolve) => setTimeout(resolve, boundMs));
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toEqual([]);
  } finally {
    process.off('unhandledRejection', onUnhandled);
  }
}

describe('a submit whose queue does not answer', () => {
  for (const ordered of [false, true]) {
    it(`fails with UNAVAILABLE after storeTimeoutMs, and leaves no job behind (${ordered ? 'ordered' : 'create, then enqueue'})`, async () => {
      const { backend, store } = backendWith(hangingDispatcher(ordered));
      const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend });
      try {
        const error = await rejection(tracker.submit('echo', { text: 'x' }));
        expect(isJobwireError(error) && error.code, String(error)).toBe('UNAVAILABLE');
        // The job that could not be queued was removed again: it never existed.
        expect((await store().counts(Date.now())).total).toBe(0);
      } finally {
        await tracker.close({ timeoutMs: 0 });
      }
    }, 5_000);
  }

  /**
   * A queue that answers once the database is back (`back()`), recording what it holds; a create that
   * waits too. `entryWithCreate`: the create adds the job's queue entry itself, in the same write (as
   * BullMQ on PostgreSQL does), so `enqueue` has nothing left to do for a job it created.
   */
  function lateDatabase(ordered: boolean, entryWithCreate = false): { backend: JobBackend; store: () => MemoryStore; back: () => void; landed: () => number; queue: Set<string> } {
    let back!: () => void;
    const down = new Promise<void>((resolve) => (back = resolve));
    const queue = new Set<string>();
    let landed = 0;
    const dispatcher: JobDispatcher = {
      ordered,
      start: async () => {},
      enqueue: async (record) => {
        await down;
        queue.add(record.id);
      },
      ...(entryWithCreate ? { enqueue: async () => {} } : {}),
      discard: async (record) => {
        queue.delete(record.id);
      },
      stop: async () => [],
    };
    // The create waits until the database is back; a removal goes out on another connection (a pool)
    // and answers at once: removing the job before its create landed would leave it behind.
    const { backend, store } = backendWith(dispatcher, (inner) => ({
      ...sharedStore(inner),
      create: async (record, at, limits) => {
        await down;
        const result = await inner.create(record, at, limits);
        if (entryWithCreate && result.outcome === 'created') queue.add(record.id);
        landed++;
        return result;
      },
    }));
    return { backend, store, back, landed: () => landed, queue };
  }

  it.each([
    { ordered: true, entryWithCreate: false },
    { ordered: false, entryWithCreate: false },
    { ordered: false, entryWithCreate: true },
  ])('a store and a queue that both hang (ordered: $ordered, queue entry added by the create: $entryWithCreate): UNAVAILABLE, nothing left unhandled; without a key, a create that lands late is removed again, with its queue entry', async ({ ordered, entryWithCreate }) => {
    const late = lateDatabase(ordered, entryWithCreate);
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend: late.backend });
    try {
      await failsUnavailableLeavingNothingUnhandled(tracker.submit('echo', { text: 'x' }), 200);
      late.back();
      await until(() => late.landed() === 1, 5_000, 'the late create to land');
      await until(async () => (await late.store().counts(Date.now())).total === 0, 5_000, 'the late job to be removed again');
      await until(() => late.queue.size === 0, 5_000, 'its queue entry to be dropped');
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  }, 15_000);

  it.each([true, false])('with an idempotency key (ordered: %s), a create that lands late is kept and queued: a retry with the key gets that job', async (ordered) => {
    const late = lateDatabase(ordered);
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend: late.backend });
    try {
      const error = await rejection(tracker.submit('echo', { text: 'x' }, { idempotencyKey: 'once' }));
      expect(isJobwireError(error) && error.code, String(error)).toBe('UNAVAILABLE');
      late.back();
      await until(() => late.landed() === 1, 5_000, 'the late create to land');
      const { jobs } = await tracker.list();
      const kept = jobs[0];
      expect(jobs).toEqual([expect.objectContaining({ status: 'queued', plugin: 'echo' })]);
      await until(() => late.queue.has(kept!.id), 5_000, 'the kept job to be queued');
      // The retry finds it (and does not make another).
      expect((await tracker.submit('echo', { text: 'x' }, { idempotencyKey: 'once' })).id).toBe(kept!.id);
      expect((await late.store().counts(Date.now())).total).toBe(1);
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  }, 15_000);

  it('an ordered queue whose enqueue throws at once, while the store hangs: the submit fails, nothing left unhandled', async () => {
    const dispatcher: JobDispatcher = {
      ordered: true,
      start: async () => {},
      enqueue: () => {
        throw new Error('the queue refused at once');
      },
      discard: async () => {},
      stop: async () => [],
    };
    const { backend } = backendWith(dispatcher, (inner) => ({ ...sharedStore(inner), create: () => new Promise(() => {}) }));
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend });
    try {
      await failsUnavailableLeavingNothingUnhandled(tracker.submit('echo', { text: 'x' }), 200);
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  }, 15_000);

  it('a queue whose enqueue throws at once after an in-process store created the job: UNAVAILABLE, and the job is removed again', async () => {
    const dispatcher: JobDispatcher = {
      start: async () => {},
      enqueue: () => {
        throw new Error('the queue refused at once');
      },
      discard: async () => {},
      stop: async () => [],
    };
    const { backend, store } = backendWith(dispatcher, (inner) => inner); // in-process: its calls are not bounded
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend });
    try {
      await failsUnavailableLeavingNothingUnhandled(tracker.submit('echo', { text: 'x' }), 0);
      expect((await store().counts(Date.now())).total).toBe(0);
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  });

  it('cancel and remove of a waiting job answer after storeTimeoutMs when its queue does not let go of it', async () => {
    const { backend } = backendWith(hangingDispatcher(false, 'discard'));
    const tracker = new JobTracker({ plugins: createFixturePlugins().plugins, storeTimeoutMs: 200, backend });
    try {
      const cancelled = await tracker.submit('echo', { text: 'cancel me' });
      const removed = await tracker.submit('echo', { text: 'remove me' });
      // The store recorded both; only dropping them from the queue hangs (a claim would find them ended or gone).
      expect(await tracker.cancel(cancelled.id, 'no longer wanted')).toMatchObject({ status: 'cancelled' });
      expect(await tracker.remove(removed.id)).toBe(true);
      expect(await tracker.get(removed.id)).toBeUndefined();
    } finally {
      await tracker.close({ timeoutMs: 0 });
    }
  }, 5_000);
});
