import PQueue from 'p-queue';
import { JobwireError, messageOf } from '../errors.js';
import type { JobStatus } from '../job.js';
import { clampPercent } from '../plugin-manager/progress.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import type { BackendHost } from '../tracker/backend.js';
import { ResultSaver } from '../tracker/result-saver.js';
import { buildStoredResult } from '../tracker/stored-result.js';
import type { CancelMessage } from './event-hub.js';
import { isoTime } from '../tracker/job-record.js';
import { encodeJson, endStamps, type ChangeFields, type JobStore, type StoredJob } from './job-store.js';

type RunnableJob = StoredJob['job'];

const LIVE: readonly JobStatus[] = ['queued', 'running'];

/** Sends a job's progress to Redis one change at a time; reports made meanwhile coalesce to the latest. */
class ProgressPump {
  #next: ChangeFields | undefined;
  #flight: Promise<void> | undefined;

  constructor(readonly send: (fields: ChangeFields) => Promise<void>) {}

  offer(fields: ChangeFields): void {
    this.#next = fields;
    this.#flight ??= this.#drain();
  }

  /** Resolves when every report made so far has been sent. */
  async idle(): Promise<void> {
    while (this.#flight) await this.#flight;
  }

  async #drain(): Promise<void> {
    while (this.#next) {
      const fields = this.#next;
      this.#next = undefined;
      await this.send(fields);
    }
    this.#flight = undefined;
  }
}

/**
 * Runs jobs in a worker process: claims them in Redis (queued → running, checked atomically),
 * runs the plugin with a signal that a cancel from any process aborts, and records how it ended.
 */
export class JobRunner {
  readonly #store: JobStore;
  readonly #host: BackendHost;
  readonly #saver: ResultSaver | undefined;
  readonly #controllers = new Map<string, AbortController>();
  readonly #pluginQueues = new Map<string, PQueue>();
  readonly #runs = new Set<Promise<void>>();

  constructor(store: JobStore, host: BackendHost) {
    this.#store = store;
    this.#host = host;
    if (host.storage) this.#saver = new ResultSaver(host.storage, host.logger, (event) => host.emitStorageFailed(event));
  }

  /** Ids of the jobs running here. */
  get active(): string[] {
    return [...this.#controllers.keys()];
  }

  /** Plugin runs still in flight here (also ones cancelled whose plugin has not settled). */
  get runs(): ReadonlySet<Promise<void>> {
    return this.#runs;
  }

  /** A cancel request from any process: abort the job's signal if it runs here. */
  cancel(message: CancelMessage): void {
    this.#controllers.get(message.id)?.abort(new JobwireError(message.code, message.reason));
  }

  /** End a live job as failed/cancelled (if it still is live) and abort it here. */
  async stop(id: string, to: 'failed' | 'cancelled', error: JobwireError): Promise<void> {
    await this.#end(id, LIVE, to, { error: encodeJson({ code: error.code, message: error.message }, 'error') });
    this.#controllers.get(id)?.abort(error);
  }

  /**
   * BullMQ's processor: called for a new job, or again for one whose worker stopped (stalled).
   * `plugin` is the BullMQ job name, so a per-plugin cap applies before anything is read.
   */
  async process(id: string, plugin: string, attempt: number, bullSignal: AbortSignal | undefined): Promise<void> {
    const run = (): Promise<void> => this.#run(id, attempt, bullSignal);
    const cap = this.#host.plugins.getMeta(plugin)?.concurrency;
    if (cap === undefined) return run();
    let queue = this.#pluginQueues.get(plugin);
    if (!queue) this.#pluginQueues.set(plugin, (queue = new PQueue({ concurrency: cap })));
    return queue.add(run);
  }

  /** On shutdown: run every scheduled result-save retry now. */
  async flush(): Promise<void> {
    await this.#saver?.flush();
  }

  async #run(id: string, attempt: number, bullSignal: AbortSignal | undefined): Promise<void> {
    const startedAt = this.#host.now();
    // The controller is registered before the claim: once any process can see the job running, a
    // cancel published for it finds this controller (none is lost in between).
    const controller = new AbortController();
    this.#controllers.set(id, controller);
    let started: Awaited<ReturnType<JobStore['start']>>;
    try {
      // One atomic step: claim it (requeued first if the worker that ran it stopped renewing its lock).
      started = await this.#store.start(id, isoTime(startedAt), `Requeued after the worker running it stopped (attempt ${attempt})`);
    } finally {
      if (!started) this.#controllers.delete(id);
    }
    if (!started) return; // cancelled (or finished, or removed) before a worker got to it
    const { job, timeoutMs } = started;
    const onBullAbort = (): void => controller.abort(new JobwireError('CANCELLED', bullSignal?.reason === undefined ? 'Cancelled' : String(bullSignal.reason)));
    bullSignal?.addEventListener('abort', onBullAbort, { once: true });
    let timer: NodeJS.Timeout | undefined;
    if (timeoutMs !== undefined) {
      timer = setTimeout(() => void this.stop(id, 'failed', new JobwireError('TIMEOUT', `Job timed out after ${timeoutMs} ms`)).catch((error: unknown) => this.#logFailure(id, error)), timeoutMs);
    }
    const pump = new ProgressPump(async (fields) => {
      try {
        await this.#store.change(id, ['running'], undefined, 'progress', this.#at(), fields);
      } catch (error) {
        this.#logFailure(id, error);
      }
    });
    const ctx: ExecuteContext = {
      jobId: id,
      signal: controller.signal,
      progress: (percent, message) => {
        const value = clampPercent(percent);
        pump.offer(message === undefined ? { progress: String(value) } : { progress: String(value), message: JSON.stringify(String(message)) });
      },
      log: (message) => this.#host.logger.info({ jobId: id, plugin: job.plugin }, String(message)),
      job: { tenantId: job.tenantId, workspaceId: job.workspaceId, metadata: job.metadata },
    };
    const settled = this.#settle(id, job, ctx, startedAt, pump);
    this.#runs.add(settled);
    try {
      await settled;
    } finally {
      this.#runs.delete(settled);
      if (timer) clearTimeout(timer);
      bullSignal?.removeEventListener('abort', onBullAbort);
      this.#controllers.delete(id);
    }
  }

  async #settle(id: string, job: RunnableJob, ctx: ExecuteContext, startedAt: number, pump: ProgressPump): Promise<void> {
    let result: unknown;
    let failure: JobwireError | undefined;
    try {
      result = await this.#host.plugins.execute(job.plugin, job.input, ctx);
    } catch (error) {
      failure = new JobwireError('PLUGIN_FAILED', messageOf(error), { cause: error });
    }
    await pump.idle();
    if (ctx.signal.aborted) return; // cancelled, timed out or closed: whoever aborted set the status
    let encoded: string | undefined;
    if (!failure) {
      try {
        encoded = encodeJson(result, 'result');
      } catch (error) {
        failure = error as JobwireError;
      }
    }
    if (failure) {
      await this.#end(id, ['running'], 'failed', { error: encodeJson({ code: failure.code, message: failure.message }, 'error') });
      return;
    }
    const finishedAt = this.#host.now();
    let saved = false;
    if (this.#saver) {
      // tenantId and workspaceId are optional on the snapshot, always present (maybe undefined) in the info.
      const info = { ...job, tenantId: job.tenantId, workspaceId: job.workspaceId, createdAt: Date.parse(job.createdAt), startedAt };
      saved = await this.#saver.save(buildStoredResult(this.#host.plugins, info, result, finishedAt));
    }
    const outcome = await this.#end(id, ['running'], 'completed', { result: encoded ?? '', progress: '100' }, finishedAt);
    if (outcome !== 'ok' && saved) await this.#saver?.discard(id); // it ended otherwise meanwhile
  }

  /** Move a job to a terminal status, stamping finishedAt and expiresAt. */
  async #end(id: string, from: readonly JobStatus[], to: 'completed' | 'failed' | 'cancelled', fields: ChangeFields, at = this.#host.now()): Promise<'ok' | 'refused' | 'missing'> {
    const end = endStamps(at, this.#host.settings.ttlMs);
    const result = await this.#store.change(id, from, to, to, isoTime(at), { ...fields, ...end.fields }, end.expiresAtMs);
    return result.outcome;
  }

  #at(): string {
    return isoTime(this.#host.now());
  }

  #logFailure(id: string, error: unknown): void {
    this.#host.logger.error({ jobId: id, err: error }, `jobwire: could not record a job change in the job store: ${messageOf(error)}`);
  }
}
