/** A worker process: runs the plugins for jobs any API process submitted; saves results to files. */
import { FileResultStorage, JobTracker } from 'jobwire';
import { backend, plugins, queueName, resultsDir } from './config.js';

const bullmq = backend('worker');
const storage = new FileResultStorage({ dir: resultsDir() });
const tracker = new JobTracker({ plugins: plugins(), backend: bullmq, storage });
await bullmq.ready();
console.log(`jobwire worker ${process.pid} ready on queue ${queueName()}`);

const stop = (): void => {
  // Running jobs get 10 s to finish; waiting ones stay queued for the other workers.
  void tracker.close({ timeoutMs: 10_000 }).then(() => process.exit(0));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
