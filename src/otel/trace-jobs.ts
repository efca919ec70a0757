import type { Attributes, Span, Tracer } from '@opentelemetry/api';
import type { JobStatusEvent, JobSnapshot } from '../job.js';
import { requireOptional } from '../optional.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import type { JobRemovedEvent } from '../tracker/types.js';

/** Options for {@link traceJobs}. */
export interface TraceJobsOptions {
  /** The tracer to use. @default trace.getTracer('jobwire') (a no-op until an SDK is registered) */
  tracer?: Tracer;
  /** More attributes for a job's spans (say, a tenant id: attributes are not metric labels). */
  attributes?: (job: JobSnapshot) => Attributes;
}

/** What {@link traceJobs} returns: `stop()` removes its listeners and ends the spans still open. */
export interface JobTracing {
  stop(): void;
}

const TERMINAL = ['completed', 'failed', 'cancelled'] as const;

/**
 * `@opentelemetry/api`, loaded when `traceJobs` is first called rather than when `jobwire/otel` is
 * imported, so that a missing peer is a clear error instead of Node's `ERR_MODULE_NOT_FOUND`. The
 * API keeps its state on a global symbol, so this copy and the app's `import` share one provider.
 */
function loadApi(): typeof import('@opentelemetry/api') {
  return requireOptional('@opentelemetry/api', '@opentelemetry/api', 'jobwire/otel');
}

/**
 * One OpenTelemetry span per job, `jobwire.job <plugin>`, from submit to its end, with a child
 * span `jobwire.run <plugin>` from start to end; attributes `jobwire.job.id`, `jobwire.plugin`,
 * `jobwire.status`; status ERROR with the error for a failed job. Uses `@opentelemetry/api` only
 * (an optional peer dependency): without an SDK the spans cost nothing.
 *
 * @throws JobwireError `INVALID_CONFIG` when `@opentelemetry/api` is not installed.
 * @example
 * ```ts
 * const tracing = traceJobs(tracker); // after your SDK (NodeSDK, a TracerProvider) is registered
 * ```
 */
export function traceJobs(tracker: JobTracker, options: TraceJobsOptions = {}): JobTracing {
  const { context, SpanKind, SpanStatusCode, trace } = loadApi();
  const tracer = options.tracer ?? trace.getTracer('jobwire');
  const jobs = new Map<string, { job: Span; run?: Span }>();
  const attributesOf = (job: JobSnapshot): Attributes => ({ 'jobwire.job.id': job.id, 'jobwire.plugin': job.plugin, ...options.attributes?.(job) });
  const runAttributes = (job: JobSnapshot): Attributes => ({ ...attributesOf(job), 'jobwire.attempt': job.attempt });

  const open = (job: JobSnapshot): { job: Span; run?: Span } => {
    let spans = jobs.get(job.id);
    if (!spans) {
      spans = { job: tracer.startSpan(`jobwire.job ${job.plugin}`, { kind: SpanKind.INTERNAL, startTime: Date.parse(job.createdAt), attributes: attributesOf(job) }) };
      jobs.set(job.id, spans);
    }
    return spans;
  };

  const onQueued = (event: JobStatusEvent): void => {
    if (event.seq === 1) open(event.job);
  };
  const onStarted = (event: JobStatusEvent): void => {
    const spans = open(event.job);
    spans.run?.end(Date.parse(event.at)); // a requeued job runs again: the earlier run ends here
    const parent = trace.setSpan(context.active(), spans.job);
    const startTime = event.job.startedAt === undefined ? Date.parse(event.at) : Date.parse(event.job.startedAt);
    spans.run = tracer.startSpan(`jobwire.run ${event.job.plugin}`, { kind: SpanKind.INTERNAL, startTime, attributes: runAttributes(event.job) }, parent);
  };
  /** A try failed and the job will be retried: that try's run span ends in error; the job's span goes on. */
  const onRetrying = (event: JobStatusEvent): void => {
    const spans = jobs.get(event.jobId);
    const run = spans?.run;
    if (!spans || !run) return;
    delete spans.run;
    const error = event.job.lastError;
    if (error) {
      run.setAttribute('jobwire.error.code', error.code);
      run.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    run.setAttribute('jobwire.status', 'retrying');
    run.end(Date.parse(event.at));
  };
  const onEnded = (event: JobStatusEvent): void => {
    const spans = open(event.job);
    jobs.delete(event.jobId);
    const end = event.job.finishedAt === undefined ? Date.parse(event.at) : Date.parse(event.job.finishedAt);
    for (const span of [spans.run, spans.job]) {
      if (!span) continue;
      span.setAttribute('jobwire.status', event.job.status);
      if (event.job.error) {
        span.setAttribute('jobwire.error.code', event.job.error.code);
        if (event.job.status === 'failed') span.setStatus({ code: SpanStatusCode.ERROR, message: event.job.error.message });
      }
      span.end(end);
    }
  };
  const onRemoved = (event: JobRemovedEvent): void => {
    const spans = jobs.get(event.jobId);
    if (!spans) return;
    jobs.delete(event.jobId);
    spans.run?.end();
    spans.job.end();
  };

  tracker.on('job:queued', onQueued);
  tracker.on('job:started', onStarted);
  tracker.on('job:retrying', onRetrying);
  for (const type of TERMINAL) tracker.on(`job:${type}`, onEnded);
  tracker.on('job:removed', onRemoved);
  return {
    stop() {
      tracker.off('job:queued', onQueued);
      tracker.off('job:started', onStarted);
      tracker.off('job:retrying', onRetrying);
      for (const type of TERMINAL) tracker.off(`job:${type}`, onEnded);
      tracker.off('job:removed', onRemoved);
      for (const spans of jobs.values()) {
        spans.run?.end();
        spans.job.end();
      }
      jobs.clear();
    },
  };
}
