import type { TerminalStatus } from '../job.js';

/** Percentiles of a duration over the stats window, in milliseconds (0 when `count` is 0). */
export interface DurationSummary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
}

/** One plugin's jobs that finished within the stats window. */
export interface PluginStats {
  /** Jobs that ended, by terminal status. */
  finished: Record<TerminalStatus, number>;
  /** Time from submit to start, of the jobs that started. */
  queueWaitMs: DurationSummary;
  /** Time from start to the end, of the jobs that started. */
  runMs: DurationSummary;
}

/*
 * Log-scale buckets: 8 per doubling from 0.125 ms up (about ±4.5 % resolution), 256 buckets in all
 * (up to about 18 days). A percentile is reported as the geometric middle of its bucket.
 */
const PER_DOUBLING = 8;
const BUCKETS = 256;
const SMALLEST_MS = 0.125;
const LOG2_SMALLEST = Math.log2(SMALLEST_MS);

function bucketOf(ms: number): number {
  if (!(ms > SMALLEST_MS)) return 0;
  const index = Math.floor((Math.log2(ms) - LOG2_SMALLEST) * PER_DOUBLING);
  return index >= BUCKETS ? BUCKETS - 1 : index;
}

function valueOf(bucket: number): number {
  return 2 ** (LOG2_SMALLEST + (bucket + 0.5) / PER_DOUBLING);
}

/** Counts for one plugin in one slice of the window. */
class Slice {
  readonly finished = new Uint32Array(3);
  readonly wait = new Uint32Array(BUCKETS);
  readonly run = new Uint32Array(BUCKETS);
  waitCount = 0;
  runCount = 0;

  clear(): void {
    this.finished.fill(0);
    this.wait.fill(0);
    this.run.fill(0);
    this.waitCount = 0;
    this.runCount = 0;
  }
}

const STATUS_INDEX: Record<TerminalStatus, number> = { completed: 0, failed: 1, cancelled: 2 };

function summarize(histograms: readonly Uint32Array[], count: number): DurationSummary {
  if (count === 0) return { count: 0, p50: 0, p95: 0, p99: 0 };
  const targets = [0.5, 0.95, 0.99].map((q) => Math.max(1, Math.ceil(q * count)));
  const found: number[] = [];
  let seen = 0;
  for (let bucket = 0; bucket < BUCKETS && found.length < targets.length; bucket++) {
    for (const histogram of histograms) seen += histogram[bucket] as number;
    while (found.length < targets.length && seen >= (targets[found.length] as number)) found.push(Math.round(valueOf(bucket) * 100) / 100);
  }
  return { count, p50: found[0] ?? 0, p95: found[1] ?? 0, p99: found[2] ?? 0 };
}

/**
 * Per-plugin durations over a sliding window, in fixed memory: the window is split into slices,
 * each a pair of fixed-size log histograms per plugin; the oldest slice is reused as time moves.
 * Recording a job costs two `Math.log2` and a few array writes.
 */
export class DurationStats {
  readonly windowMs: number;
  readonly #sliceMs: number;
  readonly #slices: Map<string, Slice>[];
  /** Start time of the newest slice. */
  #current = Number.NaN;
  #index = 0;

  constructor(windowMs: number, slices = 6) {
    this.windowMs = windowMs;
    this.#sliceMs = windowMs / slices;
    this.#slices = Array.from({ length: slices }, () => new Map<string, Slice>());
  }

  /** A job ended at `finishedAt` (epoch ms); `startedAt` is undefined when it never ran. */
  record(plugin: string, status: TerminalStatus, createdAt: number, startedAt: number | undefined, finishedAt: number): void {
    const slices = this.#advance(finishedAt);
    let slice = slices.get(plugin);
    if (!slice) slices.set(plugin, (slice = new Slice()));
    (slice.finished[STATUS_INDEX[status]] as number)++;
    if (startedAt !== undefined) {
      (slice.wait[bucketOf(startedAt - createdAt)] as number)++;
      slice.waitCount++;
      (slice.run[bucketOf(finishedAt - startedAt)] as number)++;
      slice.runCount++;
    }
  }

  /** Every plugin seen in the window, as of `now`. */
  summary(now: number): Record<string, PluginStats> {
    this.#advance(now);
    const plugins = new Set<string>();
    for (const slices of this.#slices) for (const name of slices.keys()) plugins.add(name);
    const out: Record<string, PluginStats> = {};
    for (const plugin of [...plugins].sort()) {
      const parts = this.#slices.map((slices) => slices.get(plugin)).filter((slice): slice is Slice => slice !== undefined);
      const finished = { completed: 0, failed: 0, cancelled: 0 };
      for (const part of parts) {
        finished.completed += part.finished[0] as number;
        finished.failed += part.finished[1] as number;
        finished.cancelled += part.finished[2] as number;
      }
      if (finished.completed + finished.failed + finished.cancelled === 0) continue;
      out[plugin] = {
        finished,
        queueWaitMs: summarize(parts.map((part) => part.wait), parts.reduce((sum, part) => sum + part.waitCount, 0)),
        runMs: summarize(parts.map((part) => part.run), parts.reduce((sum, part) => sum + part.runCount, 0)),
      };
    }
    return out;
  }

  /** Move the window to include `at`; the newest slice's plugin map. */
  #advance(at: number): Map<string, Slice> {
    const start = Math.floor(at / this.#sliceMs) * this.#sliceMs;
    if (Number.isNaN(this.#current)) this.#current = start;
    if (start > this.#current) {
      const steps = Math.min(this.#slices.length, Math.round((start - this.#current) / this.#sliceMs));
      for (let i = 0; i < steps; i++) {
        this.#index = (this.#index + 1) % this.#slices.length;
        for (const slice of (this.#slices[this.#index] as Map<string, Slice>).values()) slice.clear();
      }
      this.#current = start;
    }
    return this.#slices[this.#index] as Map<string, Slice>;
  }
}
