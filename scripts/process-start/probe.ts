// The same probe as probe.mjs, as TypeScript: what a host run with tsx isolates without a build.
import { z } from 'zod';
import { definePlugin } from 'jobwire';

const loadedAt: number = performance.timeOrigin + performance.now();

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
