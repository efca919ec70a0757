/** The API process: the Hono demo (REST, SSE, page) on a producer-only BullMQ tracker. Runs no jobs. */
import { JobTracker } from 'jobwire';
import { start } from '../hono/server.js';
import { runFromCommandLine } from '../shared/serve.js';
import { backend, plugins } from './config.js';

await runFromCommandLine('jobwire distributed API', (options) => start({ ...options, tracker: new JobTracker({ plugins: plugins(), backend: backend('producer') }) }));
