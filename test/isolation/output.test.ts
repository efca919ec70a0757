import { afterEach, describe, expect, it } from 'vitest';
import { isJobwireError, JobTracker, LocalPluginManager, type ExecuteContext, type JobEvent, type Plugin } from '../../src/index.js';
import { collect } from '../helpers/deferred.js';

/** Plain-JavaScript plugins that write output, importable by worker threads and processes. */
const OUTPUT_PLUGINS = new URL('./output-plugins.mjs', import.meta.url);
const fixtures = Object.fromEntries(Object.values((await import(OUTPUT_PLUGINS.href)) as Record<string, Plugin>).map((plugin) => [plugin.name, plugin]));

/** A context that records every call a plugin makes on it, in order. */
function recordingContext(signal = new AbortController().signal) {
  const calls: unknown[][] = [];
  const ctx: ExecuteContext = {
    jobId: 'job-output-1',
    attempt: 1,
    signal,
    progress: (percent, message) => calls.push(['progress', percent, message]),
    write: (chunk) => calls.push(['write', chunk]),
    log: (message) => calls.push(['log', message]),
    job: { tenantId: undefined, workspaceId: undefined, metadata: {} },
  };
  return { ctx, calls };
}

describe.each(['thread', 'process'] as const)('ctx.write in %s isolation', (mode) => {
  let plugins: LocalPluginManager;
  let tracker: JobTracker | undefined;

  function setup(...names: string[]): LocalPluginManager {
    plugins = new LocalPluginManager();
    for (const name of names) plugins.register(fixtures[name]!, undefined, { isolation: mode, module: OUTPUT_PLUGINS });
    return plugins;
  }

  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    tracker = undefined;
    await plugins.close();
  });

  it('10k chunks written in bursts all reach the host in order', async () => {
    setup('flood');
    const { ctx, calls } = recordingContext();
    const count = 10_000;
    expect(await plugins.execute('flood', { count, kind: 'mixed' }, ctx)).toEqual({ count });
    const expected = Array.from({ length: count }, (_, n) => (n % 10 === 9 ? { i: n + 1 } : `t${n + 1} `));
    expect(calls).toEqual(expected.map((chunk) => ['write', chunk]));
  });

  it('10k chunks through a tracker: every one in the log, in order', async () => {
    setup('flood');
    tracker = new JobTracker({ plugins });
    const count = 10_000;
    const job = await tracker.submit('flood', { count, burst: 500 });
    const events = await collect(tracker.events(job.id));
    expect(events.at(-1)?.type).toBe('completed');
    const text = events.flatMap((e: JobEvent) => (e.type === 'output' ? [e.chunk as string] : [])).join('');
    const expected = Array.from({ length: count }, (_, n) => `t${n + 1} `);
    expect(text).toBe(expected.join(''));
    expect((await tracker.output(job.id)).chunks).toEqual(expected);
  });

  it('writes, progress and logs reach the host in the order the plugin made them', async () => {
    setup('interleave');
    const { ctx, calls } = recordingContext();
    expect(await plugins.execute('interleave', { rounds: 7 }, ctx)).toBe('done');
    const expected: unknown[][] = [];
    for (let round = 1; round <= 7; round++) expected.push(['write', `w${round}`], ['progress', round, `p${round}`], ['write', { round }], ['log', `l${round}`]);
    expected.push(['write', 'last']);
    expect(calls).toEqual(expected);
  });

  it('a chunk that cannot cross or be stored fails the job with PLUGIN_FAILED; what came before stays', async () => {
    setup('bad-chunk', 'flood');
    tracker = new JobTracker({ plugins, concurrency: 8 });
    const unsendable = /^ctx\.write got a chunk that cannot be sent from its worker to the host: /;
    const cases = [
      // Refused by the worker (structured clone), alone in its tick or with the chunk before it.
      { kind: 'function', sameTick: false, message: unsendable },
      { kind: 'function', sameTick: true, message: unsendable },
      { kind: 'symbol', sameTick: true, message: unsendable },
      { kind: 'getter', sameTick: false, message: /getter threw/ },
      // Sent, then refused by the host as an inline plugin's would be.
      { kind: 'undefined', sameTick: true, message: /^ctx\.write expects a string or a JSON value, got undefined$/ },
      { kind: 'cycle', sameTick: false, message: /ctx\.write cannot be stored as JSON/ },
      { kind: 'bigint', sameTick: true, message: /ctx\.write cannot be stored as JSON/ },
    ] as const;
    await Promise.all(
      cases.map(async ({ kind, sameTick, message }) => {
        const job = await tracker!.submit('bad-chunk', { kind, sameTick });
        const done = await tracker!.wait(job.id, { timeoutMs: 20_000 });
        expect(done, `${kind}, sameTick: ${sameTick}`).toMatchObject({ status: 'failed', error: { code: 'PLUGIN_FAILED', message: expect.stringMatching(message) } });
        expect((await tracker!.output(job.id)).chunks, `${kind}, sameTick: ${sameTick}`).toEqual(['ok']);
      }),
    );
    expect((await tracker.wait((await tracker.submit('flood', { count: 3 })).id)).status).toBe('completed');
  });

  it('a chunk that cannot be cloned rejects a bare execute with PLUGIN_FAILED, after the chunks before it', async () => {
    setup('bad-chunk');
    const { ctx, calls } = recordingContext();
    const error = await plugins.execute('bad-chunk', { kind: 'function', sameTick: true }, ctx).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(isJobwireError(error) && error.code).toBe('PLUGIN_FAILED');
    expect(calls).toEqual([['write', 'ok']]);
  });

  it('a write after the plugin returned is ignored', async () => {
    setup('late', 'flood');
    tracker = new JobTracker({ plugins });
    const job = await tracker.submit('late', {});
    expect(await tracker.wait(job.id)).toMatchObject({ status: 'completed', result: 'returned' });
    // The late write comes 10 ms after the return; a job run after it gives it time to arrive.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await tracker.wait((await tracker.submit('flood', { count: 1 })).id);
    expect((await tracker.output(job.id)).chunks).toEqual(['before']);
  });
});
