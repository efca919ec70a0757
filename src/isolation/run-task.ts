import { isMainThread } from 'node:worker_threads';
import { JobwireError, messageOf } from '../errors.js';
import { defaultExport } from '../plugin-manager/load-module.js';
import type { PluginContext } from '../plugin-manager/types.js';
import { OutputBatch } from './output-batch.js';
import { toWireError, type HostMessage, type TaskRequest, type WorkerMessage } from './protocol.js';

/** What a worker needs from a plugin module's export. */
interface RunnablePlugin {
  name: string;
  run(input: unknown, ctx: PluginContext): unknown;
}

const modules = new Map<string, Promise<Record<string, unknown>>>();

function isRunnable(value: unknown, name: string): value is RunnablePlugin {
  return typeof value === 'object' && value !== null && (value as { name?: unknown }).name === name && typeof (value as { run?: unknown }).run === 'function';
}

/** The plugin named `name` from a module: its default export, or any named export of that name. */
async function loadPlugin(module: string, name: string): Promise<RunnablePlugin> {
  let loading = modules.get(module);
  if (!loading) {
    loading = import(module) as Promise<Record<string, unknown>>;
    modules.set(module, loading);
    loading.catch(() => modules.delete(module));
  }
  let exports: Record<string, unknown>;
  try {
    exports = await loading;
  } catch (cause) {
    // Node 20 does not run the host's module loaders (tsx…) in worker threads; child processes inherit them.
    const hint = (cause as { code?: unknown } | undefined)?.code === 'ERR_UNKNOWN_FILE_EXTENSION' && !isMainThread ? ' (worker threads import plain JavaScript only: build the plugin, or use isolation: \'process\', which keeps the host\'s loader flags)' : '';
    throw new JobwireError('PLUGIN_FAILED', `Plugin "${name}": could not import ${module} in its worker: ${messageOf(cause)}${hint}`, { cause });
  }
  const found = [defaultExport(exports), ...Object.values(exports)].find((value) => isRunnable(value, name));
  if (!found) throw new JobwireError('PLUGIN_FAILED', `Plugin "${name}": ${module} exports no plugin of that name`);
  return found;
}

/** A plugin's value as text for a message; a value that cannot become text is described instead. */
function textOf(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '(a value that cannot be shown)';
  }
}

/** A progress value that crosses the boundary as it is when it can; an object or function is described. */
function cloneable(value: unknown): unknown {
  return (typeof value === 'object' && value !== null) || typeof value === 'function' || typeof value === 'symbol' ? `[${typeof value}]` : value;
}

/**
 * Run one job in a worker: import the plugin, run it with a context whose calls become messages,
 * and post how it ended. The returned function takes the host's messages (abort).
 */
export function runTask(request: TaskRequest, post: (message: WorkerMessage) => void): { done: Promise<void>; receive(message: HostMessage): void } {
  const controller = new AbortController();
  const receive = (message: HostMessage): void => {
    if (message.type === 'abort') controller.abort(new JobwireError(message.code, message.message));
  };
  // Once the outcome is posted (or a chunk could not be sent), the job is over for the host: later calls are ignored.
  let ended = false;
  const end = (message: WorkerMessage): void => {
    ended = true;
    post(message);
  };
  const output = new OutputBatch(post, (error) => {
    // As the tracker does with a chunk it cannot store: the job fails, and the plugin is told to stop.
    end({ type: 'error', error: toWireError(error) });
    controller.abort(error);
  });
  /** Post after the output written before it, so the host sees both in the order they were made. */
  const send = (message: WorkerMessage): void => {
    if (!ended && output.flush()) post(message);
  };
  const ctx: PluginContext = {
    jobId: request.jobId,
    attempt: request.attempt,
    signal: controller.signal,
    // Never throws here: the host checks the value and fails the job when it is not a number.
    progress(percent, message) {
      send({ type: 'progress', percent: cloneable(percent), message: message === undefined ? undefined : textOf(message) });
    },
    // Never throws: batched per tick; the host checks each chunk as the tracker does.
    write(chunk) {
      if (!ended) output.write(chunk);
    },
    log(message) {
      send({ type: 'log', message: textOf(message) });
    },
    config: request.config,
    job: request.job,
  };
  const done = (async () => {
    let value: unknown;
    try {
      const plugin = await loadPlugin(request.module, request.plugin);
      // Cancelled while the worker started: do not begin work nobody waits for.
      if (controller.signal.aborted) throw controller.signal.reason;
      value = await plugin.run(request.input, ctx);
    } catch (thrown) {
      if (!ended && output.flush()) end({ type: 'error', error: toWireError(thrown) });
      return;
    }
    if (ended || !output.flush()) return;
    try {
      end({ type: 'result', value });
    } catch (cause) {
      post({ type: 'error', error: toWireError(new Error(`Plugin "${request.plugin}" returned a value that cannot be sent to the host: ${messageOf(cause)}`)) });
    }
  })();
  return { done, receive };
}
