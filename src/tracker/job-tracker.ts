import { EventEmitter } from 'eventemitter3';
import type { z } from 'zod';
import { JobwireError, messageOf } from '../errors.js';
import { isStatusEvent, isTerminalEventType, isTerminalStatus, type JobEvent, type JobEventType, type JobSnapshot } from '../job.js';
import { silentLogger, type Logger } from '../logger.js';
import type { Plugin } from '../plugin-manager/define-plugin.js';
import type { PluginManager } from '../plugin-manager/types.js';
import type { ResultStorage } from '../storage/types.js';
import { EventStream } from '../engine/event-stream.js';
import { JobEngine } from '../engine/job-engine.js';
import type { EngineHost } from '../engine/types.js';
import { MemoryBackend } from '../memory/memory-backend.js';
import { runTrackerCloseHooks } from './close-hooks.js';
import { traceHooksOf } from './trace-hooks.js';
import { DurationStats } from './duration-stats.js';
import { checkSchedule, scheduleInfo } from '../schedule/check-schedule.js';
import type { ScheduledJobOptions, ScheduleInfo, ScheduleOptions, ScheduleTiming } from '../schedule/types.js';
import { checkListQuery, checkSubmitOptions, checkTrackerOptions } from './options.js';
import { MAX_TIMER_MS } from '../timers.js';
import type {
  CloseOptions,
  EventsOptions,
  JobOutput,
  JobPage,
  JobStats,
  JobTrackerEvents,
  JobTrackerOptions,
  ListQuery,
  SubmitOptions,
  WaitOptions,
} from './types.js';

type EventName = keyof JobTrackerEvents;
type AnyListener = (payload: never) => void;

/** Emitter event names by job event type (built once, not per event). */
const EVENT_NAMES = {
  queued: 'job:queued',
  started: 'job:started',
  progress: 'job:progress',
  retrying: 'job:retrying',
  completed: 'job:completed',
  failed: 'job:failed',
  cancelled: 'job:cancelled',
  output: 'job:output',
  gap: 'job:gap',
} as const satisfies Record<JobEventType, `job:${JobEventType}`>;

/**
 * Submits jobs to plugins, runs them under a concurrency limit, and lets clients follow, wait
 * for, cancel and list them. In memory by default; pass a `backend` to scale out.
 *
 * @example
 * ```ts
 * const tracker = new JobTracker({ plugins, concurrency: 2 });
 * const job = await tracker.submit('transcribe', { audio: 'a.wav' });
 * for await (const event of tracker.events(job.id)) if (isStatusEvent(event)) console.log(event.type, event.job.progress);
 * ```
 */
export class JobTracker {
  /** The plugins this tracker runs (what the HTTP routes list). */
  readonly plugins: PluginManager;
  /** Where completed results are saved, when the tracker was given a `storage` (what the result routes read). */
  readonly storage: ResultStorage | undefined;
  readonly #engine: JobEngine;
  readonly #emitter = new EventEmitter();
  readonly #logger: Logger;
  readonly #durations: DurationStats;
  readonly #now: () => number;
  /** Listener → the wrapper registered for it, so one listener that throws cannot starve the others. */
  readonly #wrappers = new WeakMap<AnyListener, Map<EventName, (payload: unknown) => void>>();
  readonly #limits: EngineHost['settings']['limits'];
  #closing: Promise<void> | undefined;

  constructor(options: JobTrackerOptions) {
    const settings = checkTrackerOptions(options);
    this.plugins = options.plugins;
    this.storage = options.storage;
    this.#logger = options.logger ?? silentLogger;
    this.#durations = new DurationStats(settings.statsWindowMs);
    this.#now = options.now ?? Date.now;
    this.#limits = settings.limits;
    const durations = this.#durations;
    const emitter = this.#emitter;
    const tracker = this;
    const host: EngineHost = {
      plugins: options.plugins,
      storage: options.storage,
      now: this.#now,
      logger: this.#logger,
      settings,
      listening: (type: JobEventType | 'removed') => emitter.listenerCount(type === 'removed' ? 'job:removed' : EVENT_NAMES[type]) > 0,
      emit: (event: JobEvent) => {
        emitter.emit(EVENT_NAMES[event.type], event);
      },
      emitRemoved: (jobId, job) => {
        if (emitter.listenerCount('job:removed') > 0) emitter.emit('job:removed', { jobId, job: job() });
      },
      recordFinished: (plugin, status, createdAt, startedAt, finishedAt) => durations.record(plugin, status, createdAt, startedAt, finishedAt),
      emitStorageFailed: (event) => {
        emitter.emit('job:storage-failed', event);
      },
      get tracing() {
        return traceHooksOf(tracker);
      },
    };
    this.#engine = new JobEngine(host, options.backend ?? new MemoryBackend());
  }

  /**
   * Submit a job. Resolves at once with the `queued` snapshot; the work runs in the background.
   *
   * @throws JobwireError `PLUGIN_NOT_FOUND`, `PLUGIN_DISABLED`, `INVALID_INPUT`, `INVALID_REQUEST`
   * (bad options), `QUEUE_FULL`, `CLOSED`.
   * @example
   * ```ts
   * const job = await tracker.submit(transcribe, { audio: 'a.wav' }, { tenantId: 'acme', priority: 10 });
   * ```
   */
  submit<I extends z.ZodType>(plugin: Plugin<I, z.ZodType, z.ZodType>, input: z.input<I>, options?: SubmitOptions): Promise<JobSnapshot>;
  submit(plugin: string, input: unknown, options?: SubmitOptions): Promise<JobSnapshot>;
  submit(plugin: string | Plugin, input: unknown, options?: SubmitOptions): Promise<JobSnapshot> {
    // Not async: the backend's promise is handed on as is (one hop less per job); throws become rejections.
    try {
      if (this.#closing) throw new JobwireError('CLOSED', 'Tracker is closed');
      const name = typeof plugin === 'string' ? plugin : plugin?.name;
      if (typeof name !== 'string') throw new JobwireError('INVALID_REQUEST', '`plugin` must be a plugin name or a plugin definition');
      const checked = checkSubmitOptions(options);
      return this.#engine.submit({ plugin: name, input: this.#validate(name, input), ...checked, retryOf: undefined, scheduleKey: undefined });
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** The input as the plugin's schema parses it; the engine then checks what it may carry. */
  #validate(plugin: string, input: unknown): unknown {
    try {
      return this.plugins.validateInput(plugin, input);
    } catch (error) {
      // A recursive schema walks as deep as the value: one nested without end overflows the stack.
      if (error instanceof RangeError) throw new JobwireError('INVALID_INPUT', `The input is nested too deeply (at most ${this.#limits.jsonDepth} levels)`, { cause: error });
      throw error;
    }
  }

  /** The job's current snapshot, or `undefined` (unknown, removed or expired). */
  async get(id: string): Promise<JobSnapshot | undefined> {
    if (typeof id !== 'string') return undefined;
    return this.#engine.get(id);
  }

  /**
   * What the job's plugin wrote with `ctx.write` (every try's, in order) that is still retained:
   * all of it, or — `gap: true` — its newest part once it went past `outputLimitBytes`. Readable
   * while the job lives (until its TTL), from any process of the deployment.
   * @throws JobwireError `JOB_NOT_FOUND` (unknown, removed or expired); `UNAVAILABLE` when the store does not answer.
   * @example
   * ```ts
   * const { chunks } = await tracker.output(job.id);
   * console.log(chunks.join(''));
   * ```
   */
  async output(id: string): Promise<JobOutput> {
    if (typeof id !== 'string') throw new JobwireError('JOB_NOT_FOUND', 'Unknown job');
    return this.#engine.output(id);
  }

  /**
   * Jobs newest first, filtered; page with `nextCursor`. A cursor never skips or repeats a job
   * while new ones are submitted.
   * @throws JobwireError `INVALID_REQUEST` for a bad status, limit or cursor.
   */
  async list(query?: ListQuery): Promise<JobPage> {
    return this.#engine.list(checkListQuery(query));
  }

  /**
   * Cancel a queued or running job: it turns `cancelled` at once and `ctx.signal` is aborted.
   * A finished job is returned unchanged.
   * @throws JobwireError `JOB_NOT_FOUND`.
   */
  async cancel(id: string, reason?: string): Promise<JobSnapshot> {
    if (typeof id !== 'string') throw new JobwireError('JOB_NOT_FOUND', 'Unknown job');
    return this.#engine.cancel(id, reason === undefined ? 'Cancelled' : typeof reason === 'string' ? reason : messageOf(reason), 'CANCELLED');
  }

  /**
   * Run a `failed` or `cancelled` job again, as a new job: same plugin, input and options (tenant,
   * workspace, metadata, priority, timeout, retry policy; not its idempotency key or delay), with
   * `retryOf` naming the old job. The old job stays as it was.
   * @throws JobwireError `JOB_NOT_FOUND`; `INVALID_REQUEST` when the job is queued, running or
   * completed; `PLUGIN_NOT_FOUND` when its plugin is gone; what `submit` throws (`QUEUE_FULL`, `CLOSED`).
   * @example
   * ```ts
   * const again = await tracker.retry(failed.id);
   * console.log(again.retryOf === failed.id); // true
   * ```
   */
  async retry(id: string): Promise<JobSnapshot> {
    if (typeof id !== 'string') throw new JobwireError('JOB_NOT_FOUND', 'Unknown job');
    if (this.#closing) throw new JobwireError('CLOSED', 'Tracker is closed');
    return this.#engine.retry(id);
  }

  /**
   * Create or replace the schedule `key`: at each tick (a `cron` pattern, or every `everyMs`) it
   * submits an ordinary job, whose snapshot carries `scheduleKey`. In memory, ticks run while this
   * tracker is open (timers never keep the process alive); on BullMQ, the queue's job schedulers
   * tick once per tick across every process, and survive restarts.
   * @throws JobwireError `INVALID_REQUEST` (bad key, timing or options), `PLUGIN_NOT_FOUND`,
   * `PLUGIN_DISABLED`, `INVALID_INPUT`, `INVALID_CONFIG` (a backend without schedules), `CLOSED`.
   * @example
   * ```ts
   * await tracker.schedule('nightly-report', { cron: '0 3 * * *', tz: 'Europe/Paris', plugin: 'report', input: { days: 1 } });
   * ```
   */
  schedule<I extends z.ZodType>(key: string, options: ScheduleTiming & { plugin: Plugin<I, z.ZodType, z.ZodType>; input: z.input<I>; options?: ScheduledJobOptions }): Promise<ScheduleInfo>;
  schedule(key: string, options: ScheduleOptions): Promise<ScheduleInfo>;
  async schedule(key: string, options: ScheduleOptions | (ScheduleTiming & { plugin: Plugin; input: unknown; options?: ScheduledJobOptions })): Promise<ScheduleInfo> {
    if (this.#closing) throw new JobwireError('CLOSED', 'Tracker is closed');
    const plugin = typeof options?.plugin === 'object' && options.plugin !== null ? options.plugin.name : options?.plugin;
    const record = await checkSchedule(key, { ...options, plugin } as ScheduleOptions, this.#now(), this.#limits);
    this.#validate(record.plugin, record.input);
    await this.#engine.schedule(record);
    const saved = (await this.#engine.schedules()).find((schedule) => schedule.key === record.key);
    return scheduleInfo(saved ?? { ...record, next: undefined });
  }

  /** Delete the schedule `key`: it ticks no more (jobs it submitted are not touched). Resolves whether it existed. */
  async unschedule(key: string): Promise<boolean> {
    if (typeof key !== 'string') return false;
    if (this.#closing) throw new JobwireError('CLOSED', 'Tracker is closed');
    return this.#engine.unschedule(key);
  }

  /**
   * Every schedule, by key, with its next tick.
   * @throws JobwireError `INVALID_CONFIG` when the backend keeps no schedules.
   */
  async schedules(): Promise<ScheduleInfo[]> {
    const schedules = await this.#engine.schedules();
    return schedules.map(scheduleInfo).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** Cancel (if live) and delete a job. Resolves whether it existed. Stored results are kept. */
  async remove(id: string): Promise<boolean> {
    if (typeof id !== 'string') return false;
    return this.#engine.remove(id);
  }

  /**
   * Resolve with the job's snapshot once it is terminal. While it waits, the process stays alive
   * (jobwire's own timers — a retry's backoff, a delayed job — do not keep it alive by themselves).
   * @throws JobwireError `JOB_NOT_FOUND`; `TIMEOUT` after `timeoutMs`; `CANCELLED` when `signal` aborts.
   */
  async wait(id: string, options: WaitOptions = {}): Promise<JobSnapshot> {
    const { signal, timeoutMs } = options;
    if (timeoutMs !== undefined && (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS)) {
      throw new JobwireError('INVALID_REQUEST', `\`timeoutMs\` must be an integer from 0 to ${MAX_TIMER_MS}`);
    }
    if (signal?.aborted) throw new JobwireError('CANCELLED', 'Wait aborted', { cause: signal.reason });
    const stop = new AbortController();
    // jobwire's own timers never keep the process alive; a caller waiting for a job does (a script
    // awaiting a job through its retry's backoff would otherwise just exit).
    const keepAlive = setInterval(() => undefined, MAX_TIMER_MS);
    let timedOut = false;
    const onAbort = (): void => stop.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            stop.abort();
          }, timeoutMs);
    try {
      for await (const event of this.events(id, { signal: stop.signal })) {
        if (isStatusEvent(event) && isTerminalEventType(event.type)) return event.job;
      }
      if (timedOut) throw new JobwireError('TIMEOUT', `Job ${id} did not finish within ${timeoutMs} ms`);
      if (signal?.aborted) throw new JobwireError('CANCELLED', 'Wait aborted', { cause: signal.reason });
      const job = await this.get(id);
      if (job && isTerminalStatus(job.status)) return job;
      throw new JobwireError('JOB_NOT_FOUND', `Job ${id} was removed`);
    } finally {
      clearInterval(keepAlive);
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * The job's events: those with `seq > afterSeq` first, then live ones; ends after the terminal
   * event. `return()` or aborting `signal` ends it at once. An unknown id rejects the first
   * `next()` with `JOB_NOT_FOUND`.
   *
   * Replay keeps every status event and the latest progress after each; a consumer slower than
   * the plugin gets the newest progress instead of every step. Output chunks (`ctx.write`) come as
   * `output` events in the same order and seq space, each exactly once (a consumer that lags may
   * get adjacent string chunks merged into one); output that is no longer retained comes as one
   * `gap` event. Seqs always increase.
   * @example
   * ```ts
   * for await (const event of tracker.events(id, { afterSeq: 3 })) {
   *   if (event.type === 'output') append(event.chunk);
   *   else if (event.type !== 'gap') render(event.job);
   * }
   * ```
   */
  events(id: string, options: EventsOptions = {}): AsyncIterableIterator<JobEvent> {
    const { afterSeq = 0, signal } = options;
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      return EventStream.failed(new JobwireError('INVALID_REQUEST', `\`afterSeq\` must be a non-negative integer, got ${String(afterSeq)}`));
    }
    if (typeof id !== 'string') return EventStream.failed(new JobwireError('JOB_NOT_FOUND', 'Unknown job'));
    return this.#engine.events(id, afterSeq, signal);
  }

  /**
   * Job counts by status now, and per plugin over the last `statsWindowMs`: jobs that ended by
   * status, queue-wait and run-time p50/p95/p99 (from fixed-size histograms).
   * @example
   * ```ts
   * const { running, plugins } = await tracker.stats();
   * console.log(running, plugins.transcribe?.runMs.p95);
   * ```
   */
  async stats(): Promise<JobStats> {
    const counts = await this.#engine.counts();
    return { ...counts, windowMs: this.#durations.windowMs, plugins: this.#durations.summary(this.#now()) };
  }

  /** Listen for a tracker event. A listener that throws is logged and does not disturb the others. */
  on<K extends EventName>(type: K, listener: JobTrackerEvents[K]): this {
    this.#emitter.on(type, this.#wrap(type, listener as AnyListener));
    return this;
  }

  /** Listen for one occurrence. */
  once<K extends EventName>(type: K, listener: JobTrackerEvents[K]): this {
    this.#emitter.once(type, this.#wrap(type, listener as AnyListener));
    return this;
  }

  /** Stop listening. */
  off<K extends EventName>(type: K, listener: JobTrackerEvents[K]): this {
    const wrapper = this.#wrappers.get(listener as AnyListener)?.get(type);
    if (wrapper) this.#emitter.off(type, wrapper);
    return this;
  }

  /**
   * Shut down: new submits get `CLOSED`, queued jobs end `cancelled` (code `CLOSED`) at once,
   * running jobs get `timeoutMs` to finish and are then cancelled; tenant-wide event streams
   * (`openJobsStream` without `ids`) end at once. Safe to call twice.
   */
  close(options: CloseOptions = {}): Promise<void> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    if (!Number.isInteger(timeoutMs) || timeoutMs < 0 || timeoutMs > MAX_TIMER_MS) {
      return Promise.reject(new JobwireError('INVALID_REQUEST', `\`timeoutMs\` must be an integer from 0 to ${MAX_TIMER_MS}`));
    }
    if (this.#closing) return this.#closing;
    runTrackerCloseHooks(this);
    this.#closing = this.#engine.close(timeoutMs);
    return this.#closing;
  }

  #wrap(type: EventName, listener: AnyListener): (payload: unknown) => void {
    let byType = this.#wrappers.get(listener);
    if (!byType) this.#wrappers.set(listener, (byType = new Map()));
    let wrapper = byType.get(type);
    if (!wrapper) {
      wrapper = (payload: unknown) => {
        try {
          (listener as (payload: unknown) => void)(payload);
        } catch (error) {
          const jobId = typeof payload === 'object' && payload !== null && 'jobId' in payload ? (payload as { jobId: unknown }).jobId : undefined;
          this.#logger.error({ jobId, event: type, err: error }, `jobwire: a ${type} listener threw: ${messageOf(error)}`);
        }
      };
      byType.set(type, wrapper);
    }
    return wrapper;
  }
}
