import { fork, type ChildProcess } from 'node:child_process';
import { JobwireError, messageOf } from '../errors.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import type { ResolvedIsolation } from './options.js';
import { fromWireError, type TaskRequest, type WorkerMessage } from './protocol.js';
import { stderrSink } from './stderr.js';
import { outOfMemory, superviseTask, workerFailure } from './supervise.js';
import { workerEntry } from './worker-entry.js';

/** How much of a dying process's stderr is kept to explain the death. */
const STDERR_TAIL = 4_096;

/** Every worker process alive in this host, killed (with their groups) if the host exits first. */
const live = new Set<ChildProcess>();
let exitHook = false;

/**
 * Kill a worker process's whole process group (programs the plugin started included), also after
 * the worker itself has exited: what it started may still run.
 */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(process.platform === 'win32' ? child.pid : -child.pid, 'SIGKILL');
  } catch {
    // ESRCH: the group is already gone.
  }
}

/** The host's exec flags for a worker: loaders carry over, debugger ports and heap caps do not. */
function execArgv(limit: number | undefined): string[] {
  const inherited = process.execArgv.filter((flag) => !/^--(inspect|debug|max-old-space-size)/.test(flag));
  return limit === undefined ? inherited : [...inherited, `--max-old-space-size=${limit}`];
}

/** Runs each job of one plugin in a fresh child process that leads its own process group. */
export class ProcessRunner {
  readonly #plugin: string;
  readonly #isolation: ResolvedIsolation;
  readonly #children = new Set<ChildProcess>();

  constructor(plugin: string, isolation: ResolvedIsolation) {
    this.#plugin = plugin;
    this.#isolation = isolation;
  }

  run(request: TaskRequest, ctx: ExecuteContext): Promise<unknown> {
    return superviseTask(ctx, this.#isolation.graceMs, (events) => {
      const limit = this.#isolation.limits.maxOldGenerationSizeMb;
      const child = fork(workerEntry('process'), [], {
        detached: true, // its own process group: one kill reaches everything it starts
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        execArgv: execArgv(limit),
      });
      this.#track(child);
      let stderr = '';
      const sink = stderrSink(this.#isolation.stderr, { plugin: this.#plugin, jobId: request.jobId });
      child.stderr?.on('data', (chunk: Buffer) => {
        sink.write(chunk);
        stderr = (stderr + chunk.toString('utf8')).slice(-STDERR_TAIL);
      });
      child.stderr?.on('end', () => sink.end());
      let crash: JobwireError | undefined;
      const failed = (what: string): JobwireError => workerFailure(this.#plugin, what);
      child.on('message', (message: WorkerMessage) => {
        if (message.type === 'crash') {
          crash = failed(message.error ? `crashed in its process: ${fromWireError(message.error).message}` : `exited its process with code ${message.exitCode ?? '?'}`);
        } else {
          events.message(message);
        }
      });
      child.on('error', (error) => events.gone(failed(`could not start its process: ${error.message}`)));
      child.on('exit', () => killGroup(child));
      // 'close' comes after 'exit' once stderr is drained, so its tail can explain the death.
      child.on('close', (code, signal) => {
        if (crash) return events.gone(crash);
        if (/heap out of memory|Reached heap limit/i.test(stderr)) {
          return events.gone(failed(outOfMemory('process', limit)));
        }
        events.gone(failed(signal === null ? `exited its process with code ${code ?? '?'} before returning a result` : `process was killed by ${signal} before returning a result`));
      });
      try {
        child.send({ type: 'run', request });
      } catch (error) {
        killGroup(child);
        throw failed(`could not be sent its job: ${messageOf(error)}`);
      }
      return {
        send: (message) => {
          if (child.connected) child.send(message);
        },
        kill: () => killGroup(child),
        // The job is over: nothing it started may linger.
        release: () => killGroup(child),
      };
    });
  }

  /** Kill every worker process of this plugin now (running jobs included). */
  async close(): Promise<void> {
    const exits = [...this.#children].map((child) => new Promise((resolve) => child.once('close', resolve)));
    for (const child of this.#children) killGroup(child);
    await Promise.all(exits);
  }

  #track(child: ChildProcess): void {
    this.#children.add(child);
    live.add(child);
    child.once('close', () => {
      this.#children.delete(child);
      live.delete(child);
    });
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const worker of live) killGroup(worker);
      });
    }
  }
}
