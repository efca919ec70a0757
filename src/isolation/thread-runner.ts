import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type Tinypool from 'tinypool';
import { JobwireError, messageOf } from '../errors.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import type { ResolvedIsolation } from './options.js';
import type { TaskRequest, WorkerMessage } from './protocol.js';
import { outOfMemory, superviseTask, workerFailure } from './supervise.js';
import { workerEntry } from './worker-entry.js';

/** How long a dead thread's own error may take to arrive after its channel closed. */
const CRASH_REPORT_MS = 100;

/** How long an idle thread stays warm (with the plugin module loaded) before it exits. */
const IDLE_MS = 30_000;

/** Runs one plugin's jobs on a pool of worker threads (tinypool), one job per thread at a time. */
export class ThreadRunner {
  readonly #plugin: string;
  readonly #isolation: ResolvedIsolation;
  readonly #maxThreads: number;
  #pool: Promise<Tinypool> | undefined;

  constructor(plugin: string, isolation: ResolvedIsolation, concurrency: number | undefined) {
    this.#plugin = plugin;
    this.#isolation = isolation;
    this.#maxThreads = concurrency ?? Math.max(availableParallelism(), 1);
  }

  async run(request: TaskRequest, ctx: ExecuteContext): Promise<unknown> {
    const pool = await this.#start();
    return superviseTask(ctx, this.#isolation.graceMs, (events) => {
      const { port1, port2 } = new MessageChannel();
      const kill = new AbortController();
      let fallback: NodeJS.Timeout | undefined;
      let exitCode: number | undefined;
      let released = false;
      const crashed = (what: string): JobwireError => workerFailure(this.#plugin, what);
      // The thread died without a result: wait a moment for the pool's own error (it says more),
      // then report what is known and drop the dead thread from the pool.
      const lost = (): void => {
        if (released) return;
        fallback ??= setTimeout(() => {
          kill.abort();
          events.gone(crashed(exitCode === undefined ? 'stopped its worker thread without a result' : `called process.exit(${exitCode}) in its worker thread`));
        }, CRASH_REPORT_MS);
      };
      port1.on('message', (message: WorkerMessage) => {
        if (message.type === 'crash') {
          exitCode = message.exitCode;
          lost();
        } else {
          events.message(message);
        }
      });
      port1.on('close', lost);
      let running: Promise<unknown>;
      try {
        running = pool.run({ request, port: port2 }, { transferList: [port2], signal: kill.signal });
      } catch (error) {
        port1.close();
        throw crashed(`could not be sent its job: ${messageOf(error)}`);
      }
      running.then(
        () => lost(), // the task ended; its result already came on the port (or the channel says why not)
        (error: unknown) => {
          if (kill.signal.aborted) return; // we stopped it
          const code = (error as { code?: unknown } | undefined)?.code;
          events.gone(crashed(code === 'ERR_WORKER_OUT_OF_MEMORY' ? outOfMemory('worker thread', this.#isolation.limits.maxOldGenerationSizeMb) : `crashed in its worker thread: ${messageOf(error)}`));
        },
      );
      return {
        send: (message) => port1.postMessage(message),
        kill: () => kill.abort(),
        release: () => {
          released = true;
          clearTimeout(fallback);
          port1.removeAllListeners();
          port1.close();
        },
      };
    });
  }

  /** Terminate every thread of the pool (running jobs included). */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    if (pool) await (await pool).destroy();
  }

  #start(): Promise<Tinypool> {
    this.#pool ??= import('tinypool').then(({ default: Pool }) => {
      const limit = this.#isolation.limits.maxOldGenerationSizeMb;
      return new Pool({
        filename: workerEntry('thread'),
        name: 'runInThread',
        minThreads: 0,
        maxThreads: this.#maxThreads,
        idleTimeout: IDLE_MS,
        ...(limit === undefined ? {} : { resourceLimits: { maxOldGenerationSizeMb: limit } }),
      });
    });
    return this.#pool;
  }
}
