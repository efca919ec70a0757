import { describe, expect, it } from 'vitest';
import type { JobwireError } from '../../src/index.js';
import { OutputBatch } from '../../src/isolation/output-batch.js';
import type { WorkerMessage } from '../../src/isolation/protocol.js';

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** A batch whose messages are cloned as a worker's port would, and kept. */
function batch() {
  const posted: WorkerMessage[] = [];
  const failures: JobwireError[] = [];
  const output = new OutputBatch(
    (message) => posted.push(structuredClone(message)),
    (error) => failures.push(error),
  );
  return { output, posted, failures };
}

describe('OutputBatch (a worker’s ctx.write)', () => {
  it('everything written in one tick goes out as one message, in order', async () => {
    const { output, posted } = batch();
    for (let i = 0; i < 10_000; i++) output.write(i % 2 ? `c${i}` : { i });
    expect(posted).toEqual([]);
    await tick();
    expect(posted).toHaveLength(1);
    expect(posted[0]).toEqual({ type: 'output', chunks: Array.from({ length: 10_000 }, (_, i) => (i % 2 ? `c${i}` : { i })) });
    output.write('next tick');
    await tick();
    expect(posted.map((m) => (m.type === 'output' ? m.chunks.length : 0))).toEqual([10_000, 1]);
  });

  it('flush posts what is pending at once (before another message); the tick then has nothing left', async () => {
    const { output, posted } = batch();
    output.write('a');
    output.write('b');
    expect(output.flush()).toBe(true);
    expect(posted).toEqual([{ type: 'output', chunks: ['a', 'b'] }]);
    expect(output.flush()).toBe(true);
    output.write('c');
    await tick();
    expect(posted).toEqual([
      { type: 'output', chunks: ['a', 'b'] },
      { type: 'output', chunks: ['c'] },
    ]);
  });

  it('queues the JSON copy taken when the chunk is written, as an inline run keeps it', () => {
    const { output, posted } = batch();
    const changing = { n: 1, method() {} };
    output.write(changing);
    changing.n = 2;
    output.write({ toJSON: () => 'J' });
    expect(output.flush()).toBe(true);
    expect(posted).toEqual([{ type: 'output', chunks: [{ n: 1 }, 'J'] }]);
  });

  it('a chunk that cannot be cloned: the chunks before it go out, the job fails once, the rest is dropped', async () => {
    const { output, posted, failures } = batch();
    output.write('a');
    output.write({ b: 1 });
    output.write(() => 1);
    output.write('after');
    expect(output.flush()).toBe(false);
    expect(posted).toEqual([
      { type: 'output', chunks: ['a'] },
      { type: 'output', chunks: [{ b: 1 }] },
    ]);
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatchObject({ code: 'PLUGIN_FAILED', message: expect.stringMatching(/^ctx\.write got a chunk that cannot be sent from its worker to the host: .*could not be cloned/) });
    output.write('ignored');
    expect(output.flush()).toBe(false);
    await tick();
    expect(posted).toHaveLength(2);
    expect(failures).toHaveLength(1);
  });

  it('values that clone but are not JSON (undefined, BigInt, cycles) cross as they are: the host checks them', async () => {
    const { output, posted, failures } = batch();
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    output.write(undefined);
    output.write(10n);
    output.write(cycle);
    await tick();
    expect(failures).toEqual([]);
    expect(posted).toHaveLength(1);
    const [first] = posted as unknown as [{ chunks: unknown[] }];
    expect(first.chunks.slice(0, 2)).toEqual([undefined, 10n]);
    expect((first.chunks[2] as Record<string, unknown>).self).toBe(first.chunks[2]);
  });
});
