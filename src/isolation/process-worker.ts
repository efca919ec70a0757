/**
 * Child-process entry for `isolation: 'process'` (forked by the host, not by users). One job per
 * process; the process leads its own process group, so programs the plugin starts go down with it.
 */
import { toWireError, type HostMessage, type WorkerMessage } from './protocol.js';
import { runTask } from './run-task.js';

function send(message: WorkerMessage, then?: () => void): void {
  if (process.connected) process.send?.(message, undefined, {}, () => then?.());
  else then?.();
}

/** Kill this process and everything it started (its process group). */
function killGroup(): never {
  try {
    process.kill(-process.pid, 'SIGKILL');
  } catch {
    // Not a group leader (or no process groups on this platform): at least this process goes.
  }
  process.exit(1);
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
process.on('disconnect', killGroup);
