import type { JobRecord } from '../backend/job-record.js';
import type { CommitResult, JobChange, OutputAppend, OutputChunk } from '../backend/job-store.js';
import type { LoggedEvent } from '../backend/logged-event.js';
import { JobwireError, messageOf, type JobErrorInfo, type JobwireErrorCode } from '../errors.js';
import { isTerminalStatus, type TerminalStatus } from '../job.js';
import { invalidProgressMessage, toPercent } from '../plugin-manager/progress.js';
import type { ExecuteContext } from '../plugin-manager/types.js';
import { boundedText, checkedJson } from './json-limits.js';
import { endedRecord, progressedRecord, retryingRecord, sameChange } from './records.js';
import { backoffDelay, DEFAULT_BACKOFF } from '../retry/retry-policy.js';
import { isNonRetryable } from '../retry/non-retryable-error.js';
import { retryDelay } from './retry.js';
import type { ResultSaver } from './result-saver.js';
import { buildStoredResult } from './stored-result.js';
import { outputOf, storedOutputOf } from '../output/job-output.js';
import { checkedChunk } from '../output/checked-chunk.js';
import { CHUNK_COST, lastSeqOf } from '../output/output-events.js';
import type { StoredOutput } from '../storage/types.js';
import type { EngineHost } from './types.js';
import { checkedTraceContext } from './trace-context.js';
import type { RunTrace, TryEnd } from '../tracker/trace-hooks.js';

/** What a run needs from its engine. */
export interface RunHost {
  readonly host: EngineHost;
  readonly saver: ResultSaver | undefined;
  /** The store's compare-and-set, bounded in time. */
  commit(change: JobChange): Promise<CommitResult>;
  /** The store's append of output, bounded in time. */
  append(batch: OutputAppend): Promise<CommitResult>;
  /** The job's whole log (to save its output with its result), bounded in time. */
  readLog(id: string): Promise<LoggedEvent[] | undefined>;
  /** True once the engine is shutting down (a write that keeps failing is then given up). */
  readonly closing: boolean;
}

/** How a plugin's `run` ended. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };


const settled = Promise.resolve();

/** Text of a value a plugin passed as a message, or undefined when it cannot even be turned into text. */
function textOf(value: unknown): string | undefined {
  try {
    return String(value);
  } catch {
    return undefined;
  }
}

function errorInfo(error: JobwireError, limit: number): JobErrorInfo {
  return { code: error.code, message: boundedText(error.message, limit) };
}

/**
 * One run of a claimed job in this process: builds the plugin's context, arms its timeout, runs
 * the plugin, checks and saves its result, and records how it ended. Every write of the run goes
 * through one chain, in order, each a compare-and-set from the record the run wrote last: a write
 * that finds the job changed by someone else (a cancel, a remove, another worker) ends the run's
 * writing and aborts the plugin — that is how a cancel in any process stops it.
 */
export class JobRun {
  readonly id: string;
  readonly #run: RunHost;
  /** The job as this run last wrote it. */
  #record: JobRecord;
  #controller: AbortController | undefined;
  #aborted = false;
  #abortReason: unknown;
  /** The run no longer writes: the job ended (here or elsewhere) or is no longer this run's. */
  #over = false;
  #timer: NodeJS.Timeout | undefined;
  #writes: Promise<unknown> = settled;
  #inFlight = 0;
  /** The latest progress not yet written, and how many chunks had been written when it was reported. */
  #pending: { progress: number; message: string | undefined; written: number } | undefined;
  /** The seq of the end this run is committing (its own event must not abort it). */
  #ending = 0;
  /** Set once this run committed a retry: when the next try may start (epoch ms). */
  #retryAt: number | undefined;
  /** The retry being committed after a timeout, while the plugin may still run. */
  #retrying: Promise<unknown> | undefined;
  #pumping = false;
  /** Output written and not yet appended, in order. */
  #output: OutputChunk[] = [];
  /** An append of the pending output is scheduled (next tick) or running. */
  #outputArmed = false;
  /** Chunks written by the plugin so far (those not in `#output` were appended or dropped). */
  #outputWritten = 0;
  /** What the pending output counts against the limit (its JSON length and the chunk cost, each). */
  #pendingCost = 0;
  /** Pending chunks dropped past the limit, not yet told to the store. */
  #pendingDropped = 0;
  /** The plugin's `run` has settled: later writes are ignored. */
  #settled = false;
  readonly #onDone: (run: JobRun) => void;
  /** This try's trace, when the tracker is traced. */
  #trace: RunTrace | undefined;
  readonly #onProgress: ((progress: number, message: string | undefined) => void) | undefined;
  #done = false;
  #doneWaiters: (() => void)[] | undefined;

  /**
   * `onDone` is called once, when the run is over: its plugin settled and its end is recorded.
   * `onProgress`, after each progress report recorded.
   */
  constructor(run: RunHost, record: JobRecord, onDone: (run: JobRun) => void, onProgress?: (progress: number, message: string | undefined) => void) {
    this.#run = run;
    this.#record = record;
    this.id = record.id;
    this.#onDone = onDone;
    this.#onProgress = onProgress;
  }

  /** Resolves when the run is over (see the constructor's `onDone`). */
  whenDone(): Promise<void> {
    if (this.#done) return settled;
    return new Promise((resolve) => (this.#doneWaiters ??= []).push(resolve));
  }

  #markDone(): void {
    if (this.#done) return;
    this.#done = true;
    if (this.#trace) this.#traceEnd(this.#trace);
    for (const resolve of this.#doneWaiters ?? []) resolve();
    this.#doneWaiters = undefined;
    this.#onDone(this);
  }

  /** True once the run no longer writes: the job ended, here or elsewhere, or went to another worker. */
  get over(): boolean {
    return this.#over;
  }

  /** The job as this run last wrote it (a cancel in this process starts its compare-and-set from it). */
  get record(): JobRecord {
    return this.#record;
  }

  /** The signal handed to the plugin, created on first use: a plugin that never reads it costs no AbortController. */
  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#abortReason);
    }
    return this.#controller.signal;
  }

  /**
   * The bus says the job ended (its event `seq`; -1 for a removal): unless this run is writing that
   * very end, the job ended elsewhere — a cancel, a shutdown, another worker — and the run aborts.
   */
  ended(seq: number, reason: () => JobwireError): void {
    if (this.#over || seq === this.#ending) return;
    this.abort(reason());
  }

  /** The job ended elsewhere (a cancel, a shutdown): stop writing and abort the plugin with `reason`. */
  abort(reason: JobwireError): void {
    this.#over = true;
    this.#clearTimer();
    this.#abortSignal(reason);
  }

  /**
   * Run the plugin. Resolves once it has settled (its slot may then go to another job); never
   * rejects. Resolves with the time the next try may start when this try failed and the job is
   * to be retried (its `retrying` record is then committed), else `undefined`.
   */
  async execute(): Promise<number | undefined> {
    // A run aborted before it started still calls the plugin, with its signal already aborted: the
    // plugin sees the cancel as it would any other (an isolated one never starts its worker).
    const { host } = this.#run;
    const { timeoutMs } = this.#record;
    if (timeoutMs !== undefined) this.#timer = setTimeout(() => this.#timeout(timeoutMs), timeoutMs);
    let outcome: Outcome;
    const trace = (this.#trace = this.#traceRun());
    try {
      const execute = (): Promise<unknown> => host.plugins.execute(this.#record.plugin, this.#record.input, this.#context());
      outcome = { ok: true, value: await (trace ? trace.wrap(execute) : execute()) };
    } catch (error) {
      outcome = { ok: false, error };
    }
    // The plugin is done: from here on the job's time and slot no longer depend on it (nor on storage),
    // and what it writes is ignored (its result, saved with the output, is what it wrote until now).
    this.#settled = true;
    this.#clearTimer();
    if (this.#retrying || (!outcome.ok && !this.#over && this.#mayRetry(outcome.error))) {
      // A retry is handed back to the dispatcher: its record must be committed first.
      await (this.#retrying ?? this.#settle(outcome)).catch((error: unknown) => host.logger.error({ jobId: this.id, err: error }, `jobwire: could not record how a job ended: ${messageOf(error)}`));
      this.#markDone();
      return this.#retryAt;
    }
    this.#settle(outcome).then(
      () => this.#markDone(),
      (error: unknown) => {
        host.logger.error({ jobId: this.id, err: error }, `jobwire: could not record how a job ended: ${messageOf(error)}`);
        this.#markDone();
      },
    );
    return undefined;
  }

  /** This try's trace, when the tracker is traced (a tracer that throws is logged: telemetry never fails a job). */
  #traceRun(): RunTrace | undefined {
    const { host } = this.#run;
    const tracing = host.tracing;
    if (!tracing) return undefined;
    try {
      return tracing.run(this.#record, checkedTraceContext(this.#record.traceContext));
    } catch (error) {
      host.logger.warn({ jobId: this.id, err: error }, `jobwire: could not trace a job's run: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** Tell the trace how this try ended, as this run knows it. */
  #traceEnd(trace: RunTrace): void {
    const record = this.#record;
    const at = this.#run.host.now();
    let end: TryEnd;
    if (this.#retryAt !== undefined) end = { status: 'retrying', error: record.lastError, at };
    else if (isTerminalStatus(record.status)) end = { status: record.status, error: record.error, at: record.finishedAt ?? at };
    else if (this.#abortReason instanceof JobwireError) {
      // It ended elsewhere (a cancel, a shutdown, a worker that gave up on it): the reason says how.
      const { code, message } = this.#abortReason;
      end = { status: code === 'CANCELLED' || code === 'CLOSED' ? 'cancelled' : 'failed', error: { code, message }, at };
    } else end = { status: undefined, error: undefined, at };
    try {
      trace.end(end);
    } catch (error) {
      this.#run.host.logger.warn({ jobId: this.id, err: error }, `jobwire: could not trace the end of a job's run: ${messageOf(error)}`);
    }
  }

  /** True when a try that failed with `error` (thrown by the plugin) is retried: tries are left and the error allows it. */
  #mayRetry(error: unknown): boolean {
    return (this.#record.attempt ?? 1) < (this.#record.maxAttempts ?? 1) && !isNonRetryable(error);
  }

  #context(): ExecuteContext {
    const run = this;
    const { host } = this.#run;
    const record = this.#record;
    return {
      jobId: record.id,
      attempt: record.attempt ?? 1,
      get signal() {
        return run.signal;
      },
      progress: (percent, message) => this.#progress(percent, message),
      write: (chunk) => this.#writeOutput(chunk),
      log: (message) => {
        const text = textOf(message) ?? '(a message that cannot be shown)';
        host.logger.info({ jobId: record.id, plugin: record.plugin }, boundedText(text, host.settings.limits.messageLength));
      },
      job: { tenantId: record.tenantId, workspaceId: record.workspaceId, metadata: record.metadata },
    };
  }

  /** `ctx.progress`: never throws. A value that is not a number fails the job, from any call site. */
  #progress(percent: unknown, message: unknown): void {
    if (this.#over) return;
    const progress = toPercent(percent);
    if (progress === undefined) {
      this.#failFromContext(invalidProgressMessage(percent));
      return;
    }
    let text: string | undefined;
    if (message !== undefined) {
      const shown = textOf(message);
      if (shown === undefined) {
        this.#failFromContext('ctx.progress got a message that cannot be turned into text');
        return;
      }
      text = boundedText(shown, this.#run.host.settings.limits.messageLength);
    }
    this.#pending = { progress, message: text ?? this.#pending?.message, written: this.#outputWritten };
    if (!this.#pumping) {
      this.#pumping = true;
      void this.#write(() => this.#pump());
    }
  }

  /**
   * `ctx.write`: never throws, never blocks. The chunk is checked and kept; everything written in
   * one tick (or while the previous append is in flight) goes to the store in one append.
   */
  #writeOutput(chunk: unknown): void {
    if (this.#over || this.#settled) return;
    const checked = checkedChunk(chunk, this.#run.host.settings.limits);
    if (!checked.ok) {
      this.#failFromContext(checked.message);
      return;
    }
    this.#output.push({ value: checked.value, json: checked.json });
    this.#outputWritten++;
    this.#pendingCost += checked.json.length + CHUNK_COST;
    if (this.#pendingCost > 2 * this.#run.host.settings.outputLimitBytes) this.#dropPending();
    if (!this.#outputArmed) {
      this.#outputArmed = true;
      setImmediate(() => void this.#write(() => this.#appendOutput()));
    }
  }

  /**
   * Output written and not yet appended went past twice `outputLimitBytes` (the store is slow to
   * answer, or one tick wrote that much): keep its newest part within the limit, as the store
   * would, and count the rest as dropped — the next append takes their seqs and records them as a
   * gap. What a run holds stays bounded whatever the store does.
   */
  #dropPending(): void {
    const limit = this.#run.host.settings.outputLimitBytes;
    const output = this.#output;
    let cost = this.#pendingCost;
    let first = 0;
    while (cost > limit && first < output.length - 1) cost -= (output[first++] as OutputChunk).json.length + CHUNK_COST;
    this.#output = output.slice(first);
    this.#pendingCost = cost;
    this.#pendingDropped += first;
  }

  /**
   * Append the chunks written so far (the first `upTo` the plugin ever wrote, when given: those
   * before a progress report), from the record this run wrote last (one compare-and-set). Runs in
   * the write chain: before each status write, and a tick after the first chunk written since the
   * last append. A store that does not answer is tried again (the job's output must not have
   * holes), unless shutting down.
   */
  async #appendOutput(upTo = Infinity): Promise<void> {
    const count = Math.min(this.#output.length, upTo - (this.#outputWritten - this.#output.length));
    if (count <= 0) {
      if (this.#output.length === 0) this.#outputArmed = false;
      return;
    }
    const dropped = this.#pendingDropped;
    this.#pendingDropped = 0;
    let chunks = this.#output;
    if (count === chunks.length) {
      this.#outputArmed = false;
      this.#output = [];
    } else {
      // Only the chunks written before a progress report: the rest stay for the next append.
      chunks = this.#output.slice(0, count);
      this.#output = this.#output.slice(count);
    }
    for (const chunk of chunks) this.#pendingCost -= chunk.json.length + CHUNK_COST;
    const { host } = this.#run;
    const at = host.now();
    for (let attempt = 0; !this.#over; attempt++) {
      const record = this.#record;
      const batch: OutputAppend = { jobId: this.id, afterSeq: record.seq, chunks, at, limitBytes: host.settings.outputLimitBytes, dropped };
      const seq = lastSeqOf(batch);
      let result: CommitResult;
      try {
        result = await this.#run.append(batch);
      } catch (error) {
        host.logger.error({ jobId: this.id, err: error, willRetry: !this.#run.closing }, `jobwire: could not record a job's output: ${messageOf(error)}`);
        if (this.#run.closing) return;
        await new Promise((resolve) => setTimeout(resolve, retryDelay(attempt)));
        continue;
      }
      // A write that timed out may have landed after all: finding it there is success, not a conflict.
      if (result.ok || (attempt > 0 && result.current?.seq === seq && result.current.event === 'output')) {
        this.#record = { ...this.#record, seq, event: 'output' };
        return;
      }
      this.#lose(result.current);
      return;
    }
  }

  /** Send the latest progress, one write at a time; reports made meanwhile coalesce to the newest. */
  async #pump(): Promise<void> {
    try {
      while (this.#pending !== undefined && !this.#over) {
        const { progress, message, written } = this.#pending;
        this.#pending = undefined;
        try {
          await this.#appendOutput(written); // output written before the report goes first, what came after it stays after
          if (this.#over) return;
          const next = progressedRecord(this.#record, progress, message);
          if ((await this.#commit(next, this.#run.host.now())) && this.#onProgress) this.#onProgress(next.progress, next.message);
        } catch (error) {
          // Progress is best effort: a store that does not answer costs the report, not the job.
          this.#run.host.logger.warn({ jobId: this.id, err: error }, `jobwire: a progress report was dropped: ${messageOf(error)}`);
        }
      }
    } finally {
      this.#pending = undefined;
      this.#pumping = false;
    }
  }

  #failFromContext(message: string): void {
    const error = new JobwireError('PLUGIN_FAILED', message);
    void this.#end('failed', { error: errorInfo(error, this.#run.host.settings.limits.messageLength) }, this.#run.host.now()).then((ended) => {
      if (ended) this.#abortSignal(error);
    });
  }

  #timeout(timeoutMs: number): void {
    this.#timer = undefined;
    const error = new JobwireError('TIMEOUT', `Job timed out after ${timeoutMs} ms`);
    const info = errorInfo(error, this.#run.host.settings.limits.messageLength);
    const at = this.#run.host.now();
    const ending = this.#record.retryOnTimeout && this.#mayRetry(error) ? (this.#retrying = this.#retry(info, at)) : this.#end('failed', { error: info }, at);
    void ending.then((ended) => {
      if (ended) this.#abortSignal(error);
    });
  }

  /** This try failed and tries are left: back to `queued` until its backoff has passed. True when this run wrote it. */
  #retry(error: JobErrorInfo, at: number): Promise<boolean> {
    const record = this.#record;
    const runAt = at + backoffDelay(record.backoff ?? DEFAULT_BACKOFF, record.attempt ?? 1);
    return this.#finish(() => retryingRecord(this.#record, runAt, error), 'was to be retried', at).then((written) => {
      if (written) this.#retryAt = runAt;
      return written;
    });
  }

  /** After the plugin settled: check the result, save it, and record the end. */
  async #settle(outcome: Outcome): Promise<void> {
    if (this.#over) return; // cancelled, timed out or closed meanwhile: that status stands
    const { host, saver } = this.#run;
    const { limits } = host.settings;
    if (!outcome.ok) {
      const error = new JobwireError('PLUGIN_FAILED', messageOf(outcome.error), { cause: outcome.error });
      const info = errorInfo(error, limits.messageLength);
      const ended = this.#mayRetry(outcome.error) ? await this.#retry(info, host.now()) : await this.#end('failed', { error: info }, host.now());
      if (ended) this.#abortSignal(error);
      return;
    }
    let result: unknown;
    try {
      const json = checkedJson(outcome.value, 'result', limits.jsonDepth, limits.resultBytes, 'PLUGIN_FAILED');
      // Kept as the JSON copy: what every reader gets is plain data that serialises again.
      result = json === undefined ? undefined : JSON.parse(json);
    } catch (error) {
      const failure = error instanceof JobwireError ? error : new JobwireError('PLUGIN_FAILED', messageOf(error));
      if (await this.#end('failed', { error: errorInfo(failure, limits.messageLength) }, host.now())) this.#abortSignal(failure);
      return;
    }
    let output: StoredOutput | undefined;
    if (saver && (this.#outputWritten > 0 || this.#record.attempt > 1)) output = await this.#storedOutput();
    const finishedAt = host.now();
    let saved = false;
    if (saver) {
      const stored = buildStoredResult(host.plugins, this.#record, result, finishedAt);
      if (output !== undefined) stored.output = output;
      saved = await saver.save(stored);
    }
    const ended = await this.#end('completed', { result }, finishedAt);
    if (!ended && saved) await saver?.discard(this.id); // it ended otherwise while saving
  }

  /** The job's output (every try's) as its stored result keeps it; `undefined` when it cannot be read (the result is saved without it). */
  async #storedOutput(): Promise<StoredOutput | undefined> {
    const { host } = this.#run;
    try {
      await this.#write(() => this.#appendOutput());
      const log = await this.#run.readLog(this.id);
      return log && storedOutputOf(outputOf(log));
    } catch (error) {
      host.logger.warn({ jobId: this.id, err: error }, `jobwire: a job's result is saved without its output, which could not be read: ${messageOf(error)}`);
      return undefined;
    }
  }

  /** Record the end, unless the job already ended or is no longer this run's. True when this run ended it. */
  #end(status: TerminalStatus, end: { error?: JobErrorInfo; result?: unknown }, at: number): Promise<boolean> {
    return this.#finish(() => endedRecord(this.#record, status, at, this.#run.host.settings.ttlMs, end), status, at);
  }

  /**
   * Write the record that ends this run (`build` makes it from the run's latest record: an end, or
   * a retry), unless the job already ended or is no longer this run's. True when this run wrote it.
   */
  #finish(build: () => JobRecord, what: string, at: number): Promise<boolean> {
    return this.#write(async () => {
      for (let attempt = 0; ; attempt++) {
        if (this.#over) return false;
        await this.#appendOutput(); // output written before the end (or retry) goes first
        if (this.#over) return false;
        try {
          const next = build();
          this.#ending = next.seq;
          const ended = await this.#commit(next, at);
          if (ended) {
            this.#over = true;
            this.#clearTimer();
          }
          return ended;
        } catch (error) {
          // The store did not answer: keep trying (a worker must not leave the job running), unless shutting down.
          const delay = retryDelay(attempt);
          this.#run.host.logger.error({ jobId: this.id, err: error, willRetry: !this.#run.closing }, `jobwire: could not record that a job ${what}: ${messageOf(error)}`);
          if (this.#run.closing) return false;
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
  }

  /** One compare-and-set from the record this run wrote last. False when someone else changed the job. */
  async #commit(next: JobRecord, at: number): Promise<boolean> {
    const result = await this.#run.commit({ record: next, at, replacesLast: next.event === 'progress' && this.#record.event === 'progress' });
    if (result.ok) {
      this.#record = next;
      return true;
    }
    const current = result.current;
    // A write that timed out may have landed after all: finding it there is success, not a conflict.
    if (current && sameChange(current, next)) {
      this.#record = current;
      return true;
    }
    this.#lose(current);
    return false;
  }

  /** Someone else changed the job: it ended elsewhere, was removed, or went to another worker. */
  #lose(current: JobRecord | undefined): void {
    this.#over = true;
    this.#clearTimer();
    let reason: JobwireError;
    if (current === undefined) reason = new JobwireError('CANCELLED', 'Job removed');
    else if (isTerminalStatus(current.status)) reason = new JobwireError((current.error?.code ?? 'CANCELLED') as JobwireErrorCode, current.error?.message ?? `Job ${current.status} elsewhere`);
    else reason = new JobwireError('CANCELLED', 'The job was handed to another worker');
    this.#abortSignal(reason);
  }

  /** Chain a write after the run's earlier ones. */
  #write<T>(write: () => Promise<T>): Promise<T> {
    if (this.#inFlight === 0) {
      // Nothing in flight: start now (no extra turn of the event loop).
      this.#inFlight++;
      const started = write();
      this.#writes = started.then(this.#written, this.#written);
      return started;
    }
    this.#inFlight++;
    const started = this.#writes.then(write);
    this.#writes = started.then(this.#written, this.#written);
    return started;
  }

  readonly #written = (): void => {
    this.#inFlight--;
  };

  #abortSignal(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
