import { afterEach, describe, expect, it } from 'vitest';
import { JobTracker, MemoryBackend } from '../../src/index.js';
import type { BackendDrivers, DispatchHandlers, JobBackend } from '../../src/backend/index.js';
import { createFixturePlugins } from '../../src/testing/index.js';
import { z } from 'zod';
import { definePlugin } from '../../src/plugin-manager/define-plugin.js';
import { rejection, until } from '../helpers/deferred.js';

/** A memory backend whose dispatcher hands the test the engine's handlers, as a shared queue's dispatcher gets them. */
function capturingBackend(): { backend: JobBackend; handlers: () => DispatchHandlers } {
  const inner = new MemoryBackend();
  let captured: DispatchHandlers | undefined;
  return {
    backend: {
      open(host): BackendDrivers {
        const drivers = inner.open(host) as BackendDrivers;
        const { dispatcher } = drivers;
        return {
          ...drivers,
          dispatcher: {
            ordered: dispatcher.ordered ?? false,
            start: (handlers) => {
              captured = handlers;
              return dispatcher.start(handlers);
            },
            enqueue: (record) => dispatcher.enqueue(record),
            discard: (record) => dispatcher.discard(record),
            stop: () => dispatcher.stop(),
          },
        };
      },
    },
    handlers: () => {
      if (!captured) throw new Error('not started');
      return captured;
    },
  };
}

describe("the engine's dispatch handlers for a shared queue's tools", () => {
  let tracker: JobTracker | undefined;
  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    tracker = undefined;
  });

  function setup() {
    const fx = createFixturePlugins();
    const { backend, handlers } = capturingBackend();
    tracker = new JobTracker({ plugins: fx.plugins, backend });
    return { fx, tracker, handlers };
  }

  it('adopt() stores a queue entry that came without a record as a queued job, once per key; a bad plugin or input is refused', async () => {
    const t = setup();
    await t.tracker.stats(); // open
    const record = await t.handlers().adopt({ plugin: 'echo', input: { text: 'by hand' }, key: 'entry-1', metadata: { from: 'queue' } });
    expect(record).toMatchObject({ status: 'queued', plugin: 'echo', input: { text: 'by hand' }, metadata: { from: 'queue' }, attempt: 1 });
    expect(await t.tracker.get(record.id)).toMatchObject({ status: 'queued', plugin: 'echo' });
    expect((await t.handlers().adopt({ plugin: 'echo', input: { text: 'by hand' }, key: 'entry-1', metadata: {} })).id).toBe(record.id);
    expect(await rejection(t.handlers().adopt({ plugin: 'nope', input: {}, key: 'entry-2', metadata: {} }))).toMatchObject({ code: 'PLUGIN_NOT_FOUND' });
    expect(await rejection(t.handlers().adopt({ plugin: 'echo', input: { text: 1 }, key: 'entry-3', metadata: {} }))).toMatchObject({ code: 'INVALID_INPUT' });
    // Run by the queue that holds it: its end is what `ended()` gives.
    const outcome = await t.handlers().run({ id: record.id, plugin: 'echo', delivery: 1, record: undefined });
    expect(outcome).toMatchObject({ kind: 'done', ran: true });
    const ended = outcome.kind === 'done' ? await outcome.ended?.() : undefined;
    expect(ended).toMatchObject({ status: 'completed', result: { echo: 'by hand' } });
    // Handed out again (a BullMQ retry): not run, and `ended()` gives the job as it is.
    const again = await t.handlers().run({ id: record.id, plugin: 'echo', delivery: 1, record: undefined });
    expect(again).toMatchObject({ kind: 'done', ran: false });
    expect(again.kind === 'done' ? await again.ended?.() : undefined).toMatchObject({ status: 'completed', seq: ended?.seq });
  });

  it("adopt() refuses, as INVALID_INPUT, an input whose plugin's schema throws (not only fails its checks)", async () => {
    const fx = createFixturePlugins();
    fx.plugins.register(
      definePlugin({
        name: 'brittle',
        input: z.object({ n: z.number() }).transform((value) => {
          if (value.n < 0) throw new Error('negative numbers break the transform');
          return value;
        }),
        run: (input) => input,
      }),
    );
    const { backend, handlers } = capturingBackend();
    tracker = new JobTracker({ plugins: fx.plugins, backend });
    await tracker.stats(); // open
    expect(await rejection(handlers().adopt({ plugin: 'brittle', input: { n: -1 }, key: 'b-1', metadata: {} }))).toMatchObject({ code: 'INVALID_INPUT', message: expect.stringContaining('negative numbers break the transform') });
    expect(await handlers().adopt({ plugin: 'brittle', input: { n: 1 }, key: 'b-2', metadata: {} })).toMatchObject({ status: 'queued', input: { n: 1 } });
  });

  it('vanished() cancels a queued job with its reason, and leaves a running one alone', async () => {
    const t = setup();
    await t.tracker.stats(); // open
    const waiting = await t.handlers().adopt({ plugin: 'echo', input: { text: 'w' }, key: 'w', metadata: {} });
    t.handlers().vanished(waiting.id, 'gone from the queue');
    await until(async () => (await t.tracker.get(waiting.id))?.status === 'cancelled', 5_000, 'the job to be cancelled');
    expect((await t.tracker.get(waiting.id))?.error).toEqual({ code: 'CANCELLED', message: 'gone from the queue' });
    const running = await t.tracker.submit('gate', { key: 'r' });
    await until(async () => (await t.tracker.get(running.id))?.status === 'running', 5_000, 'the job to run');
    t.handlers().vanished(running.id, 'gone from the queue');
    // The in-process store answers the handler's read within this turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    expect((await t.tracker.get(running.id))?.status).toBe('running');
    t.fx.open('r');
    expect((await t.tracker.wait(running.id)).status).toBe('completed');
  });

  it("a run reports each recorded progress to onProgress; a failed try that is retried comes back `later` with its error; a promoted job starts before its runAt", async () => {
    const t = setup();
    await t.tracker.stats(); // open
    const steps = await t.handlers().adopt({ plugin: 'steps', input: { count: 4, delayMs: 5 }, key: 's', metadata: {} });
    const seen: number[] = [];
    await t.handlers().run({ id: steps.id, plugin: 'steps', delivery: 1, record: undefined, onProgress: (progress) => seen.push(progress) });
    await until(async () => (await t.tracker.get(steps.id))?.status === 'completed', 5_000, 'the job to complete');
    // Reports made while one is being written coalesce to the newest: the last one always arrives.
    expect(seen.at(-1)).toBe(100);
    expect(seen.every((progress) => [25, 50, 75, 100].includes(progress))).toBe(true);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));

    const flaky = await t.handlers().adopt({ plugin: 'patient', input: { key: 'p', failures: 1 }, key: 'p', metadata: {} });
    const retried = await t.handlers().run({ id: flaky.id, plugin: 'patient', delivery: 1, record: undefined });
    expect(retried).toMatchObject({ kind: 'later', error: { code: 'PLUGIN_FAILED', message: 'try 1 failed' } });

    const delayed = await t.tracker.submit('echo', { text: 'later' }, { delayMs: 600_000 });
    expect(await t.handlers().run({ id: delayed.id, plugin: 'echo', delivery: 1, record: undefined })).toMatchObject({ kind: 'later', runAt: Date.parse(delayed.runAt!) });
    expect(await t.handlers().run({ id: delayed.id, plugin: 'echo', delivery: 1, record: undefined, promoted: true })).toMatchObject({ kind: 'done', ran: true });
    expect(await t.tracker.wait(delayed.id)).toMatchObject({ status: 'completed', result: { echo: 'later' } });
  });
});
