import { fork, type ChildProcess } from 'node:child_process';
import { JobwireError, messageOf } from '../errors.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import type { ResolvedIsolation } from './options.js';
import { fromWireError, type TaskRequest, type WorkerMessage } from './protocol.js';
import { contain, newScope, SCOPE_VARIABLE, type Containment } from './containment.js';
import { stderrSink } from './stderr.js';
import { outOfMemory, superviseTask, workerFailure } from './supervise.js';
import { workerEntry } from './worker-entry.js';

/** How much of a dying process's stderr is kept to explain the death. */
const STDERR_TAIL = 4_096;

/** Every worker process alive in this host, killed (with what they started) if the host exits first. */
const live = new Map<ChildProcess, Containment>();
let exitHook = false;

/** The host's exec flags for a worker: loaders carry over, debugger ports and heap caps do not. */
function execArgv(limit: number | undefined): string[] {
  const inherited = process.execArgv.filter((flag) => !/^--(inspect|debug|max-old-space-size)/.test(flag));
  return limit === undefined ? inherited : [...inherited, `--max-old-space-size=${limit}`];
}

/**
 * Runs each job of one plugin in a fresh child process that leads its own session and process
 * group, contained (see {@link contain}) so that what the plugin starts ends with the job.
 */
export class ProcessRunner {
  readonly #plugin: string;
  readonly #isolation: ResolvedIsolation;
  readonly #children = new Map<ChildProcess, Containment | undefined>();

  constructor(plugin: string, isolation: ResolvedIsolation) {
    this.#plugin = plugin;
    this.#isolation = isolation;
  }

  run(request: TaskRequest, ctx: ExecuteContext): Promise<unknown> {
    return superviseTask(ctx, this.#isolation.graceMs, (events) => {
      const limit = this.#isolation.limits.maxOldGenerationSizeMb;
      const scope = newScope();
      const child = fork(workerEntry('process'), [], {
        detached: true, // its own session and process group, which what it starts shares unless it leaves
        serialization: 'advanced',
        stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
        execArgv: execArgv(limit),
        env: { ...process.env, [SCOPE_VARIABLE]: scope },
      });
      // Contained before it is sent its job, so nothing the plugin starts is born outside.
      const containment = child.pid === undefined ? undefined : contain(child.pid, scope);
      let killed = false;
      const kill = (): void => {
        if (killed) return; // one sweep stops and kills all it finds; the job's end and the exit both ask
        killed = true;
        containment?.kill();
      };
      this.#track(child, containment);
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
      // Whatever it started may still run (or hold its stderr open, which delays 'close').
      child.on('exit', kill);
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
        kill();
        throw failed(`could not be sent its job: ${messageOf(error)}`);
      }
      return {
        send: (message) => {
          if (child.connected) child.send(message);
        },
        kill,
        // The job is over: nothing it started may linger.
        release: kill,
      };
    });
  }

  /** Kill every worker process of this plugin now (running jobs included), with what they started. */
  async close(): Promise<void> {
    const exits = [...this.#children.keys()].map((child) => new Promise((resolve) => child.once('close', resolve)));
    for (const containment of this.#children.values()) containment?.kill();
    await Promise.all(exits);
  }

  #track(child: ChildProcess, containment: Containment | undefined): void {
    this.#children.set(child, containment);
    if (containment) live.set(child, containment);
    child.once('close', () => {
      this.#children.delete(child);
      live.delete(child);
      containment?.dispose();
    });
    if (!exitHook) {
      exitHook = true;
      process.once('exit', () => {
        for (const each of live.values()) each.kill();
      });
    }
  }
}
