/** One tracker with the sample plugins, as every example server builds it. */
import { JobTracker, LocalPluginManager, MemoryResultStorage } from 'jobwire';
import { childProcess, flaky, steps, tokens, transcribe } from './plugins.js';

export function createDemoTracker(): JobTracker {
  const plugins = new LocalPluginManager().register(steps).register(childProcess).register(flaky).register(transcribe).register(tokens);
  return new JobTracker({ plugins, storage: new MemoryResultStorage(), concurrency: 4, maxQueued: 100 });
}
