import PQueue from 'p-queue';
import { JobwireError, messageOf, type JobErrorInfo, type JobwireErrorCode } from '../errors.js';
import { createJobId } from '../ids.js';
import { canTransition, isTerminalEventType, isTerminalStatus, type JobEvent, type JobSnapshot, type JobStatus, type TerminalStatus } from '../job.js';
import { decodeCursor, encodeCursor, OrderedIndex } from '../ordered-index.js';
import { clampPercent } from '../plugin-manager/progress.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import type { BackendEventsOptions, BackendHost, BackendListQuery, JobBackend, NewJob } from './backend.js';
import { EventStream } from './event-stream.js';
import { ExpiryQueue } from './expiry-queue.js';
import { JobRecord, type LogEntry } from './job-record.js';
import { ResultSaver } from './result-saver.js';
import { jobCounts } from './job-counts.js';
import { settleWithin } from './settle-within.js';
import { buildStoredResult } from './stored-result.js';
import type { JobPage, JobCounts } from './types.js';

type Counts = Record<JobStatus, number>;

/**
 * The default backend: jobs, logs and queues in this process's memory, concurrency through
 * p-queue (one global queue, plus one per plugin that declares a `concurrency` cap).
 */
export class MemoryBackend implements JobBackend {
  #host!: BackendHost;
  #queue!: PQueue;
  readonly #pluginQueues = new Map<string, PQueue>();
  readonly #jobs = new Map<string, JobRecord>();
  readonly #order = new OrderedIndex<JobRecord>();
  readonly #expiry = new ExpiryQueue<JobRecord>();
  readonly #idempotency = new Map<string, JobRecord>();
  /** Jobs not yet terminal, for shutdown. */
  readonly #live = new Set<JobRecord>();
  /** Plugin runs still in flight (including ones whose job was cancelled but whose plugin has not settled). */
  readonly #runs = new Set<Promise<void>>();
  readonly #counts: Counts = { queued: 0, running: 0, completed: 0, failed: 0, cancelled: 0 };
  #saver: ResultSaver | undefined;
  #sweeper: NodeJS.Timeout | undefined;

  start(host: BackendHost): void {
    this.#host = host;
    this.#queue = new PQueue({ concurrency: host.settings.concurrency });
    if (host.storage) this.#saver = new ResultSaver(host.storage, host.logger, (event) => host.emitStorageFailed(event));
    if (Number.isFinite(host.settings.ttlMs)) {
      this.#sweeper = setInterval(() => this.sweep(), host.settings.sweepIntervalMs);
      this.#sweeper.unref(); // the sweep must never keep the process alive
    }
  }

  submit(job: NewJob): Promise<JobSnapshot> {
    try {
      return Promise.resolve(this.#submit(job));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #submit(job: NewJob): JobSnapshot {
    const idempotencyKey = job.idempotencyKey === undefined ? undefined : `${job.tenantId ?? ''}\u0000${job.idempotencyKey}`;
    if (idempotencyKey !== undefined) {
      const existing = this.#idempotency.get(idempotencyKey);
      if (existing && this.#alive(existing)) return existing.snapshot();
    }
    const { maxQueued, concurrency } = this.#host.settings;
    if (this.#counts.queued >= maxQueued && this.#queue.pending >= concurrency) {
      throw new JobwireError('QUEUE_FULL', `Queue is full (${maxQueued} waiting jobs)`);
    }
    const now = this.#host.now();
    const record = new JobRecord(
      createJobId(),
      this.#order.takeOrder(),
      job.plugin,
      job.input,
      job.tenantId,
      job.workspaceId,
      job.metadata,
      job.priority,
      job.timeoutMs ?? this.#host.plugins.getMeta(job.plugin)?.timeoutMs,
      idempotencyKey,
      now,
    );
    this.#jobs.set(record.id, record);
    this.#order.push(record);
    this.#live.add(record);
    if (idempotencyKey !== undefined) this.#idempotency.set(idempotencyKey, record);
    this.#counts.queued++;
    const entry = record.append('queued', now);
    const snapshot = record.snapshot(entry);
    this.#announce(record, entry);
    this.#enqueue(record);
    return snapshot;
  }

  async get(id: string): Promise<JobSnapshot | undefined> {
    const record = this.#find(id);
    return record?.snapshot();
  }

  async list(query: BackendListQuery): Promise<JobPage> {
    let before: number | undefined;
    if (query.cursor !== undefined) {
      before = decodeCursor(query.cursor);
      if (before === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    this.sweep(); // O(expired): readers never see a job past its TTL
    const jobs: JobSnapshot[] = [];
    let last: JobRecord | undefined;
    let more = false;
    this.#order.forEachNewestFirst(before, (record) => {
      if (
        (query.tenantId !== undefined && record.tenantId !== query.tenantId) ||
        (query.workspaceId !== undefined && record.workspaceId !== query.workspaceId) ||
        (query.plugin !== undefined && record.plugin !== query.plugin) ||
        (query.statuses !== undefined && !query.statuses.has(record.status))
      ) {
        return true;
      }
      if (jobs.length === query.limit) {
        more = true;
        return false;
      }
      jobs.push(record.snapshot());
      last = record;
      return true;
    });
    return more && last ? { jobs, nextCursor: encodeCursor(last.order) } : { jobs };
  }

  async cancel(id: string, reason: string, code: Extract<JobwireErrorCode, 'CANCELLED' | 'CLOSED'>): Promise<JobSnapshot> {
    const record = this.#find(id);
    if (!record) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
    this.#stop(record, 'cancelled', new JobwireError(code, reason));
    return record.snapshot();
  }

  async remove(id: string): Promise<boolean> {
    const record = this.#find(id);
    if (!record) return false;
    this.#stop(record, 'cancelled', new JobwireError('CANCELLED', 'Job removed'));
    this.#delete(record);
    return true;
  }

  events(id: string, options: BackendEventsOptions): AsyncIterableIterator<JobEvent> {
    const record = this.#find(id);
    if (!record) return EventStream.failed(new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`));
    const stream: EventStream<LogEntry> = new EventStream<LogEntry>(
      {
        build: (entry) => record.event(entry),
        isProgress: (entry) => entry.type === 'progress',
        isTerminal: (entry) => isTerminalEventType(entry.type),
        // The stream comes as an argument: an already aborted signal closes it inside its constructor.
        onClose: (closed) => record.subscribers?.delete(closed),
      },
      options.signal,
    );
    if (stream.closed) return stream;
    for (const entry of record.log) if (entry.seq > options.afterSeq) stream.push(entry);
    if (isTerminalStatus(record.status)) stream.end();
    else (record.subscribers ??= new Set()).add(stream);
    return stream;
  }

  async stats(): Promise<JobCounts> {
    this.sweep();
    return jobCounts((status) => this.#counts[status]);
  }

  async close(timeoutMs: number): Promise<void> {
    for (const record of [...this.#live]) {
      if (record.status === 'queued') this.#stop(record, 'cancelled', new JobwireError('CLOSED', 'Tracker closed before the job started'));
    }
    await settleWithin(this.#runs, timeoutMs);
    for (const record of [...this.#live]) {
      this.#stop(record, 'cancelled', new JobwireError('CLOSED', `Tracker closed; the job did not finish within ${timeoutMs} ms`));
    }
    if (this.#sweeper) clearInterval(this.#sweeper);
    await this.#saver?.flush();
  }

  /** Remove every finished job whose TTL has passed. Costs O(expired · log n). */
  sweep(): number {
    const expired = this.#expiry.popExpired(this.#host.now(), (record) => !record.removed);
    for (const record of expired) this.#delete(record);
    return expired.length;
  }

  // ── internals ──────────────────────────────────────────────────────────────

  #alive(record: JobRecord): boolean {
    if (record.removed) return false;
    if (record.expiresAt !== undefined && record.expiresAt <= this.#host.now()) {
      this.#delete(record); // expired but not swept yet: it is gone for every reader
      return false;
    }
    return true;
  }

  #find(id: string): JobRecord | undefined {
    const record = this.#jobs.get(id);
    return record && this.#alive(record) ? record : undefined;
  }

  #enqueue(record: JobRecord): void {
    // The queue holds a ticket, not the record: a job cancelled while waiting leaves only an empty
    // ticket behind, which the queue drops as a no-op when its turn comes.
    const ticket: { record: JobRecord | undefined } = { record };
    record.ticket = ticket;
    const options = { priority: record.priority };
    const run = (): Promise<void> => (ticket.record ? this.#run(ticket.record) : Promise.resolve());
    const cap = this.#host.plugins.getMeta(record.plugin)?.concurrency;
    let added: Promise<unknown>;
    if (cap === undefined) {
      added = this.#queue.add(run, options);
    } else {
      let pluginQueue = this.#pluginQueues.get(record.plugin);
      if (!pluginQueue) this.#pluginQueues.set(record.plugin, (pluginQueue = new PQueue({ concurrency: cap })));
      else if (pluginQueue.concurrency !== cap) pluginQueue.concurrency = cap;
      // The plugin's slot is held while the job waits for a global one; other plugins are not blocked.
      added = pluginQueue.add(async () => (ticket.record ? this.#queue.add(run, options) : undefined), options);
    }
    added.catch((error: unknown) => this.#host.logger.error({ jobId: record.id, err: error }, 'jobwire: queue task failed'));
  }

  async #run(record: JobRecord): Promise<void> {
    if (record.status !== 'queued') return;
    record.ticket = undefined;
    const host = this.#host;
    record.startedAt = host.now();
    this.#move(record, 'running');
    this.#announce(record, record.append('started', record.startedAt));
    if (record.timeoutMs !== undefined) {
      const timeoutMs = record.timeoutMs;
      record.timer = setTimeout(() => {
        this.#stop(record, 'failed', new JobwireError('TIMEOUT', `Job timed out after ${timeoutMs} ms`));
      }, timeoutMs);
    }
    const ctx: ExecuteContext = {
      jobId: record.id,
      get signal() {
        return record.signal;
      },
      progress: (percent, message) => this.#progress(record, percent, message),
      log: (message) => host.logger.info({ jobId: record.id, plugin: record.plugin }, String(message)),
      job: { tenantId: record.tenantId, workspaceId: record.workspaceId, metadata: record.metadata },
    };
    const done = this.#settle(record, ctx);
    this.#runs.add(done);
    try {
      await done;
    } finally {
      this.#runs.delete(done);
    }
  }

  async #settle(record: JobRecord, ctx: ExecuteContext): Promise<void> {
    let result: unknown;
    let failure: JobwireError | undefined;
    try {
      result = await this.#host.plugins.execute(record.plugin, record.input, ctx);
    } catch (error) {
      failure = new JobwireError('PLUGIN_FAILED', messageOf(error), { cause: error });
    }
    if (record.status !== 'running') return; // cancelled or timed out meanwhile: that status stands
    if (failure) {
      this.#stop(record, 'failed', failure);
      return;
    }
    const finishedAt = this.#host.now();
    if (this.#saver) {
      const saved = await this.#saver.save(buildStoredResult(this.#host.plugins, record, result, finishedAt));
      if (record.status !== 'running') {
        if (saved) await this.#saver.discard(record.id);
        return;
      }
    }
    record.result = result;
    record.progress = 100;
    this.#finish(record, 'completed', undefined, finishedAt);
  }

  #progress(record: JobRecord, percent: number, message: string | undefined): void {
    const value = clampPercent(percent);
    if (record.status !== 'running') return;
    record.progress = value;
    if (message !== undefined) record.message = String(message);
    this.#announce(record, record.append('progress', this.#host.now()));
  }

  /** End a live job as `to` with `error`, aborting its signal. No-op for a terminal job. */
  #stop(record: JobRecord, to: 'failed' | 'cancelled', error: JobwireError): void {
    if (isTerminalStatus(record.status)) return;
    this.#finish(record, to, { code: error.code, message: error.message }, this.#host.now(), error);
  }

  /** End a job as `to`; with `abortWith`, its signal is aborted once the new status is visible. */
  #finish(record: JobRecord, to: TerminalStatus, error: JobErrorInfo | undefined, at: number, abortWith?: JobwireError): void {
    this.#move(record, to);
    record.error = error;
    record.finishedAt = at;
    record.expiresAt = at + this.#host.settings.ttlMs;
    if (record.ticket) record.ticket.record = undefined;
    record.ticket = undefined;
    if (record.timer) {
      clearTimeout(record.timer);
      record.timer = undefined;
    }
    this.#live.delete(record);
    this.#expiry.push(record);
    this.#host.recordFinished(record.plugin, to, record.createdAt, record.startedAt, at);
    this.#announce(record, record.append(to, at));
    record.subscribers = undefined; // each stream ended on the terminal entry
    record.dropCachedEvent();
    // Last, after the status is final (an abort listener reading the job sees it ended): abort, let go.
    if (abortWith) record.abort(abortWith);
    record.releaseSignal();
  }

  /** The one place a status changes: enforces the transition table and keeps the counts. */
  #move(record: JobRecord, to: JobStatus): void {
    const from = record.status;
    if (!canTransition(from, to)) throw new JobwireError('INVALID_REQUEST', `Illegal job transition ${from} → ${to} (job ${record.id})`);
    record.status = to;
    this.#counts[from]--;
    this.#counts[to]++;
  }

  #announce(record: JobRecord, entry: LogEntry): void {
    if (record.subscribers) for (const subscriber of record.subscribers) subscriber.push(entry);
    if (this.#host.listening(entry.type)) this.#host.emit(record.event(entry));
  }

  #delete(record: JobRecord): void {
    if (record.removed) return;
    record.removed = true;
    this.#jobs.delete(record.id);
    this.#order.delete(record);
    this.#live.delete(record);
    this.#counts[record.status]--;
    if (record.idempotencyKey !== undefined && this.#idempotency.get(record.idempotencyKey) === record) this.#idempotency.delete(record.idempotencyKey);
    this.#host.emitRemoved(record.id, () => record.snapshot());
  }
}
