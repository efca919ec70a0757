import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type JobEvent } from '../../src/index.js';
import { MERGE_AFTER } from '../../src/engine/event-stream.js';
import { deferred } from '../helpers/deferred.js';

describe('a reader that lags behind a plugin mixing writes and progress', () => {
  it('holds a bounded number of events, however many write-then-progress rounds it missed', async () => {
    const go = deferred<void>();
    const ROUNDS = 20_000;
    const plugin = definePlugin({
      name: 'segments',
      input: z.object({}),
      run: async (_input, ctx) => {
        await go.promise;
        // A segment, then how far along: the usual shape of a transcription or a render.
        for (let i = 1; i <= ROUNDS; i++) {
          ctx.write(`segment ${i}\n`);
          ctx.progress((i / ROUNDS) * 100);
          if (i % 50 === 0) await new Promise((resolve) => setImmediate(resolve));
        }
        ctx.write('the end\n');
        return 'done';
      },
    });
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(plugin), outputLimitBytes: 2_000 });
    try {
      const job = await tracker.submit('segments', {});
      const iterator = tracker.events(job.id);
      expect((await iterator.next()).value?.type).toBe('queued');
      expect((await iterator.next()).value?.type).toBe('started');
      go.resolve(); // then read nothing until the job has ended
      await tracker.wait(job.id);
      const rest: JobEvent[] = [];
      for await (const event of iterator) rest.push(event);

      const types = rest.map((event) => event.type);
      expect(types.at(-1)).toBe('completed');
      // Once it lags, a progress report replaces every unread one, wherever output stood between them;
      // the output it could not hold became gaps between the few reports left, not one per round.
      expect(types.filter((type) => type === 'progress').length).toBeLessThan(MERGE_AFTER);
      expect(rest.length).toBeLessThan(2 * MERGE_AFTER);
      // In log order still: seqs rise, and the last output came after the last progress.
      const seqs = rest.map((event) => event.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      const progress = rest.filter((event) => event.type === 'progress').at(-1)!;
      const last = rest.filter((event) => event.type === 'output').at(-1)!;
      expect(last.type === 'output' && last.chunk).toBe('the end\n');
      expect(last.seq).toBeGreaterThan(progress.seq);
      if (progress.type === 'progress') expect(progress.job.progress).toBe(100);
    } finally {
      await tracker.close();
    }
  });
});
