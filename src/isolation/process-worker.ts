/**
 * Child-process entry for `isolation: 'process'` (forked by the host, not by users). One job per
 * process; the host contains it (its own cgroup, or its followed process tree) so that programs the
 * plugin starts go down with it, also when the host dies first.
 */
import { killOwnScope } from './containment.js';
import { toWireError, type HostMessage, type WorkerMessage } from './protocol.js';
import { runTask } from './run-task.js';

function send(message: WorkerMessage, then?: () => void): void {
  if (process.connected) process.send?.(message, undefined, {}, () => then?.());
  else then?.();
}

/** Kill this process and everything it started. */
function killAll(): never {
  killOwnScope();
  process.exit(1); // only reached where nothing could be signalled
}

function crash(thrown: unknown): void {
  send({ type: 'crash', error: toWireError(thrown) }, () => process.exit(1));
}

let task: ReturnType<typeof runTask> | undefined;

process.on('message', (message: HostMessage) => {
  if (message.type === 'run' && !task) {
    task = runTask(message.request, (out) => send(out));
  } else if (message.type === 'abort') {
    task?.receive(message);
  }
});
process.on('uncaughtException', crash);
process.on('unhandledRejection', crash);
// The host went away (or let go): nothing may outlive it.
process.on('disconnect', killAll);
