import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type JobEvent, type JobGapEvent, type JobOutputEvent } from '../../src/index.js';
import { deferred } from '../helpers/deferred.js';

/** The `i`th chunk: ten bytes, one space at its end (so a merged chunk says how many it holds). */
const chunkOf = (i: number): string => `c${String(i).padStart(8, '0')} `;

describe('a reader that lags behind string output', () => {
  it('gets the string chunks merged, and a gap that covers exactly what it lost: every chunk is delivered or inside the gap', async () => {
    const go = deferred<void>();
    const TICKS = 20;
    const PER_TICK = 20;
    const plugin = definePlugin({
      name: 'tokens',
      input: z.object({}),
      run: async (_input, ctx) => {
        await go.promise;
        // 400 chunks of 10 characters in twenty ticks: 4 000 bytes, against a limit of 1 000.
        for (let tick = 0; tick < TICKS; tick++) {
          for (let i = 0; i < PER_TICK; i++) ctx.write(chunkOf(tick * PER_TICK + i));
          await new Promise((resolve) => setImmediate(resolve));
        }
        return 'done';
      },
    });
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), outputLimitBytes: 1_000 });
    try {
      const job = await tracker.submit('tokens', {});
      const iterator = tracker.events(job.id);
      expect((await iterator.next()).value?.type).toBe('queued');
      expect((await iterator.next()).value?.type).toBe('started');
      go.resolve(); // then read nothing until the job has ended
      await tracker.wait(job.id);
      const rest: JobEvent[] = [];
      for await (const event of iterator) rest.push(event);
      expect(rest.at(-1)?.type).toBe('completed');

      // Walk the events in order: each output event holds the chunks that end at its seq, each gap the seqs it names.
      const first = 3; // seq 1 queued, 2 started
      let next = 0;
      const gaps: JobGapEvent[] = [];
      for (const event of rest.slice(0, -1)) {
        if (event.type === 'gap') {
          gaps.push(event);
          expect(event.fromSeq, `a gap from ${event.fromSeq} where seq ${first + next} was due`).toBe(first + next);
          next += event.toSeq - event.fromSeq + 1;
          continue;
        }
        expect(event.type).toBe('output');
        const { seq, chunk } = event as JobOutputEvent;
        const text = chunk as string;
        const count = text.split(' ').length - 1;
        expect(seq, `output seq ${seq} holds ${count} chunks from chunk ${next}`).toBe(first + next + count - 1);
        expect(text).toBe(Array.from({ length: count }, (_, i) => chunkOf(next + i)).join(''));
        next += count;
      }
      expect(next).toBe(TICKS * PER_TICK);
      expect(gaps).toHaveLength(1);
      expect(gaps[0]!.fromSeq).toBe(first);
    } finally {
      await tracker.close();
    }
  });
});
