import { JobwireError } from '../errors.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import { abortMessage, fromWireError, type HostMessage, type WorkerMessage } from './protocol.js';

/** The error of a job whose isolated plugin failed outside `run()`: `Plugin "name" <what happened>`. */
export function workerFailure(plugin: string, what: string): JobwireError {
  return new JobwireError('PLUGIN_FAILED', `Plugin "${plugin}" ${what}`);
}

/** `ran out of memory in its <where>`, with the heap cap when one was set. */
export function outOfMemory(where: string, limit: number | undefined): string {
  return `ran out of memory in its ${where}${limit === undefined ? '' : ` (limit ${limit} MiB)`}`;
}

/** What a runner reports to {@link superviseTask} about its worker. */
export interface TaskEvents {
  /** A message from the worker. */
  message(message: WorkerMessage): void;
  /** The worker is gone without a result: the job fails with this error. */
  gone(error: JobwireError): void;
}

/** How {@link superviseTask} drives one worker. */
export interface TaskHandle {
  /** Send a message to the worker (an abort); ignored once it is gone. */
  send(message: HostMessage): void;
  /** Stop the worker now: terminate the thread or kill the process group. */
  kill(): void;
  /** The job has settled: let go of the worker (close the channel, end the process). */
  release(): void;
}

/**
 * Run one job on a worker that `start` sets up, and settle when the first of these happens:
 * the worker posts a result or an error, the worker dies, or — after `ctx.signal` aborts and the
 * worker is told — `graceMs` pass, the worker is killed and the job rejects with the abort reason.
 */
export function superviseTask(ctx: ExecuteContext, graceMs: number, start: (events: TaskEvents) => TaskHandle): Promise<unknown> {
  const signal = ctx.signal;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let settled = false;
    let graceTimer: NodeJS.Timeout | undefined;
    let handle: TaskHandle | undefined;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(graceTimer);
      signal.removeEventListener('abort', onAbort);
      handle?.release();
      finish();
    };
    const onAbort = (): void => {
      handle?.send(abortMessage(signal.reason));
      graceTimer = setTimeout(() => {
        handle?.kill();
        settle(() => reject(signal.reason));
      }, graceMs);
    };
    const events: TaskEvents = {
      message(message) {
        if (settled) return;
        switch (message.type) {
          case 'progress':
            ctx.progress(message.percent as number, message.message);
            break;
          case 'log':
            ctx.log(message.message);
            break;
          case 'output':
            // In the order written; each is checked by the host's ctx.write, as an inline plugin's is.
            for (const chunk of message.chunks) ctx.write(chunk);
            break;
          case 'result':
            settle(() => resolve(message.value));
            break;
          case 'error':
            settle(() => reject(fromWireError(message.error)));
            break;
          case 'crash':
            // Runners turn crashes into `gone`, with what they know of the cause.
            break;
        }
      },
      gone(error) {
        settle(() => reject(error));
      },
    };
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      handle = start(events);
    } catch (error) {
      settle(() => reject(error));
    }
  });
}
