// The plugin the start-up measure runs in a process: it reports, as its first progress, when its
// process started and when this module had been evaluated (both wall clock, ms).
import { z } from 'zod';
import { definePlugin } from 'jobwire';

const loadedAt = performance.timeOrigin + performance.now();

export default definePlugin({
  name: 'probe',
  isolation: 'process',
  module: import.meta.url,
  input: z.object({}),
  run(_input, ctx) {
    ctx.progress(1, JSON.stringify({ startedAt: performance.timeOrigin, loadedAt }));
    return null;
  },
});
