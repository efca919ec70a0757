import { z } from 'zod';
import { definePlugin, type PluginContext } from '../../src/index.js';
import { deferred, type Deferred } from './deferred.js';

/** A running job of {@link controlledPlugin}: report progress and settle it from the test. */
export interface Control {
  ctx: PluginContext<unknown>;
  done: Deferred<unknown>;
}

/**
 * A plugin the test drives by hand: each run waits until the test settles it (or its signal aborts),
 * and the test reports progress through the run's real ctx.
 */
export function controlledPlugin(name = 'controlled') {
  const runs = new Map<string, Control>();
  let waiting = deferred<Control>();
  const plugin = definePlugin({
    name,
    input: z.object({ note: z.string().optional() }),
    async run(_input, ctx) {
      const control: Control = { ctx: ctx as PluginContext<unknown>, done: deferred<unknown>() };
      runs.set(ctx.jobId, control);
      waiting.resolve(control);
      waiting = deferred<Control>();
      ctx.signal.addEventListener('abort', () => control.done.reject(ctx.signal.reason), { once: true });
      return control.done.promise;
    },
  });
  return {
    plugin,
    runs,
    /** The control of a job once its run has started. */
    async started(jobId: string): Promise<Control> {
      for (;;) {
        const control = runs.get(jobId);
        if (control) return control;
        await waiting.promise;
      }
    },
  };
}
