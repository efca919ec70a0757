import type { Registry } from 'prom-client';
import { JobwireError } from '../errors.js';
import { JOB_STATUSES, type JobStatusEvent } from '../job.js';
import { importOptional } from '../optional.js';
import { countOpenStreams } from '../sse/job-stream.js';
import type { JobTracker } from '../tracker/job-tracker.js';

/** Options for {@link collectMetrics}. */
export interface CollectMetricsOptions {
  /** The prom-client registry to register on (`register`, or your own `new Registry()`). */
  registry: Registry;
  /** Metric name prefix. @default 'jobwire_' */
  prefix?: string;
  /**
   * Add a `tenant` label to `jobs_total`, `job_duration_seconds` and `queue_wait_seconds`.
   * Off by default: one time series per tenant can overwhelm Prometheus.
   */
  tenantLabel?: boolean;
  /** Buckets of `job_duration_seconds`. @default 0.1 s … 1 h */
  durationBuckets?: number[];
  /** Buckets of `queue_wait_seconds`. @default 0.01 s … 10 min */
  waitBuckets?: number[];
}

/** What {@link collectMetrics} returns: `stop()` removes its listeners and metrics. */
export interface MetricsCollector {
  /** The metric names registered. */
  readonly names: readonly string[];
  stop(): void;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600];
const WAIT_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 120, 300, 600];
const TERMINAL = ['completed', 'failed', 'cancelled'] as const;

/**
 * Prometheus metrics for a tracker, on a prom-client registry (`prom-client` is an optional peer
 * dependency, loaded only here):
 * `jobwire_jobs_total{plugin,status}`, `jobwire_job_duration_seconds{plugin,status}`,
 * `jobwire_queue_wait_seconds{plugin}`, `jobwire_jobs_in_state{state}`, `jobwire_sse_streams`.
 * Tenant ids never become label values unless `tenantLabel` is set.
 *
 * @throws JobwireError `INVALID_CONFIG` without a registry, or when prom-client is not installed.
 * @example
 * ```ts
 * import { Registry } from 'prom-client';
 * const registry = new Registry();
 * await collectMetrics(tracker, { registry });
 * app.get('/metrics', async (c) => c.text(await registry.metrics()));
 * ```
 */
export async function collectMetrics(tracker: JobTracker, options: CollectMetricsOptions): Promise<MetricsCollector> {
  if (typeof options?.registry?.registerMetric !== 'function') throw new JobwireError('INVALID_CONFIG', '`registry` must be a prom-client Registry');
  const client = await importOptional<typeof import('prom-client')>('prom-client', 'prom-client', 'jobwire/metrics');
  const { registry, prefix = 'jobwire_', tenantLabel = false } = options;
  const registers = [registry];
  const withTenant = (names: string[]): string[] => (tenantLabel ? [...names, 'tenant'] : names);

  const jobs = new client.Counter({ name: `${prefix}jobs_total`, help: 'Jobs that ended, by plugin and final status.', labelNames: withTenant(['plugin', 'status']), registers });
  const retries = new client.Counter({ name: `${prefix}job_retries_total`, help: 'Tries that failed and were retried, by plugin and error code.', labelNames: withTenant(['plugin', 'code']), registers });
  const duration = new client.Histogram({
    name: `${prefix}job_duration_seconds`,
    help: 'Run time of jobs that started: from start to their end, by plugin and final status.',
    labelNames: withTenant(['plugin', 'status']),
    buckets: options.durationBuckets ?? DURATION_BUCKETS,
    registers,
  });
  const wait = new client.Histogram({
    name: `${prefix}queue_wait_seconds`,
    help: 'Time jobs waited between submit and start, by plugin.',
    labelNames: withTenant(['plugin']),
    buckets: options.waitBuckets ?? WAIT_BUCKETS,
    registers,
  });
  new client.Gauge({
    name: `${prefix}jobs_in_state`,
    help: 'Jobs held now, by state.',
    labelNames: ['state'],
    registers,
    async collect() {
      const stats = await tracker.stats();
      for (const state of JOB_STATUSES) this.set({ state }, stats[state]);
    },
  });
  new client.Gauge({
    name: `${prefix}sse_streams`,
    help: 'Server-Sent Events streams open now.',
    registers,
    collect() {
      this.set(countOpenStreams(tracker));
    },
  });

  const labels = (event: JobStatusEvent, extra: Record<string, string> = {}): Record<string, string> => {
    const out: Record<string, string> = { plugin: event.job.plugin, ...extra };
    if (tenantLabel) out.tenant = event.job.tenantId ?? '';
    return out;
  };
  const onStarted = (event: JobStatusEvent): void => {
    const { createdAt, startedAt, attempt } = event.job;
    // The wait before a retry is its backoff, not the queue's: only a first try's wait is observed.
    if (startedAt !== undefined && attempt <= 1) wait.observe(labels(event), Math.max(0, Date.parse(startedAt) - Date.parse(createdAt)) / 1000);
  };
  const onEnded = (event: JobStatusEvent): void => {
    const status = event.job.status;
    jobs.inc(labels(event, { status }));
    const { startedAt, finishedAt } = event.job;
    if (startedAt !== undefined && finishedAt !== undefined) duration.observe(labels(event, { status }), Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) / 1000);
  };
  const onRetrying = (event: JobStatusEvent): void => {
    retries.inc(labels(event, { code: event.job.lastError?.code ?? '' }));
  };
  tracker.on('job:started', onStarted);
  tracker.on('job:retrying', onRetrying);
  for (const type of TERMINAL) tracker.on(`job:${type}`, onEnded);

  const names = ['jobs_total', 'job_retries_total', 'job_duration_seconds', 'queue_wait_seconds', 'jobs_in_state', 'sse_streams'].map((name) => `${prefix}${name}`);
  return {
    names,
    stop() {
      tracker.off('job:started', onStarted);
      tracker.off('job:retrying', onRetrying);
      for (const type of TERMINAL) tracker.off(`job:${type}`, onEnded);
      for (const name of names) registry.removeSingleMetric(name);
    },
  };
}
