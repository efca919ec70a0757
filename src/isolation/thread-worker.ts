/**
 * Worker-thread entry for `isolation: 'thread'` (loaded by the thread pool, not by users).
 * Each task brings its own MessagePort: the job's progress, logs and outcome go out on it, an abort comes in.
 */
import type { MessagePort } from 'node:worker_threads';
import { toWireError, type HostMessage, type TaskRequest, type WorkerMessage } from './protocol.js';
import { runTask } from './run-task.js';

let current: MessagePort | undefined;

// `process.exit()` inside a worker thread ends the thread only; say so before the port closes.
process.on('exit', (exitCode) => current?.postMessage({ type: 'crash', exitCode } satisfies WorkerMessage));

/**
 * Run one job; the outcome travels on `port`, so the pool's own result is always empty. A named
 * export (the pool asks for it by name): its CJS build then matches its declarations.
 */
export async function runInThread({ request, port }: { request: TaskRequest; port: MessagePort }): Promise<void> {
  current = port;
  const post = (message: WorkerMessage): void => port.postMessage(message);
  try {
    const task = runTask(request, post);
    port.on('message', (message: HostMessage) => task.receive(message));
    await task.done;
  } catch (thrown) {
    post({ type: 'error', error: toWireError(thrown) });
  } finally {
    port.removeAllListeners('message');
    current = undefined;
  }
}
