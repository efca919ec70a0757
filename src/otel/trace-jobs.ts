import type { Attributes, Context, Link, Span, Tracer } from '@opentelemetry/api';
import type { JobRecord, JobTraceContext } from '../backend/job-record.js';
import { snapshotOf } from '../engine/job-json.js';
import type { NewJob } from '../engine/records.js';
import { isJobwireError, JobwireError, messageOf } from '../errors.js';
import type { JobSnapshot } from '../job.js';
import { requireOptional } from '../optional.js';
import type { JobTracker } from '../tracker/job-tracker.js';
import { setTraceHooks, traceHooksOf, type RunTrace, type SubmitTrace, type TraceHooks, type TryEnd } from '../tracker/trace-hooks.js';
import { errorAttributes, exceptionOf, processAttributes, sendAttributes, sentAttributes } from './attributes.js';

/** Options for {@link traceJobs}. */
export interface TraceJobsOptions {
  /** The tracer to use. @default trace.getTracer('jobwire') (a no-op until an SDK is registered) */
  tracer?: Tracer;
  /** More attributes for a job's spans (say, a tenant id: attributes are not metric labels). */
  attributes?: (job: JobSnapshot) => Attributes;
}

/** What {@link traceJobs} returns: `stop()` stops tracing the tracker and ends the spans still open. */
export interface JobTracing {
  stop(): void;
}

/**
 * `@opentelemetry/api`, loaded when `traceJobs` is first called rather than when `jobwire/otel` is
 * imported, so that a missing peer is a clear error instead of Node's `ERR_MODULE_NOT_FOUND`. The
 * API keeps its state on a global symbol, so this copy and the app's `import` share one provider.
 */
function loadApi(): typeof import('@opentelemetry/api') {
  return requireOptional('@opentelemetry/api', '@opentelemetry/api', 'jobwire/otel');
}

/**
 * Trace the tracker's jobs with OpenTelemetry, following its messaging semantic conventions,
 * across processes. A submit is a PRODUCER span `send <plugin>`, a child of the caller's active
 * span (an HTTP request's, say), whose context is kept with the job (through the global
 * propagator: W3C `traceparent` with the SDK's defaults). Each try of the job is a CONSUMER span
 * `process <plugin>` in the process that runs it, any process of the deployment: a child of the
 * submit's span with a link to it, active while the plugin runs, so the plugin's own spans nest
 * inside. Attributes: `messaging.system` (`jobwire`), `messaging.destination.name` (the plugin),
 * `messaging.message.id` (the job id), `messaging.operation.type` (`send`, `process`), and
 * `jobwire.job.id`, `jobwire.plugin`, `jobwire.attempt`, `jobwire.status`, `jobwire.error.code`.
 * A try that failed records an exception event (the plugin's error, with its stack) and status
 * ERROR. Call it in every process, API and worker; it uses `@opentelemetry/api` only (an
 * optional peer dependency): without an SDK the spans cost nothing.
 *
 * @throws JobwireError `INVALID_CONFIG` when `@opentelemetry/api` is not installed, or the
 * tracker is traced already (stop that tracing first).
 * @example
 * ```ts
 * const tracing = traceJobs(tracker); // after your SDK (NodeSDK, a TracerProvider) is registered
 * ```
 */
export function traceJobs(tracker: JobTracker, options: TraceJobsOptions = {}): JobTracing {
  const { context, propagation, SpanKind, SpanStatusCode, trace } = loadApi();
  if (traceHooksOf(tracker)) throw new JobwireError('INVALID_CONFIG', 'This tracker is traced already: stop() its tracing before tracing it again');
  const tracer = options.tracer ?? trace.getTracer('jobwire');
  /** Spans started and not yet ended: what `stop()` ends. */
  const open = new Set<Span>();
  const more = options.attributes;

  const submit = (job: NewJob): SubmitTrace => {
    const parent = context.active();
    const span = tracer.startSpan(`send ${job.plugin}`, { kind: SpanKind.PRODUCER, attributes: sendAttributes(job) }, parent);
    open.add(span);
    const carrier: Record<string, string> = {};
    propagation.inject(trace.setSpan(parent, span), carrier);
    return {
      traceContext: Object.keys(carrier).length > 0 ? carrier : undefined,
      settled(snapshot, error) {
        if (!open.delete(span)) return; // stopped meanwhile
        try {
          if (snapshot) span.setAttributes({ ...sentAttributes(snapshot.id), ...more?.(snapshot) });
          else {
            // Semantic conventions' `_OTHER` for an error that is not jobwire's (it has no code).
            span.setAttributes(isJobwireError(error) ? errorAttributes(error) : { 'error.type': error instanceof Error ? error.name : '_OTHER' });
            span.recordException(exceptionOf(error));
            span.setStatus({ code: SpanStatusCode.ERROR, message: messageOf(error) });
          }
        } finally {
          span.end(); // also when `attributes` throws (the engine logs it)
        }
      },
    };
  };

  /** The context a try runs in: the submit's, as its carrier holds it, else the ambient one; and the submit's span to link to. */
  const created = (traceContext: JobTraceContext | undefined): { parent: Context; links: Link[] } => {
    const ambient = context.active();
    if (traceContext === undefined) return { parent: ambient, links: [] };
    const parent = propagation.extract(ambient, traceContext);
    const producer = trace.getSpanContext(parent);
    // Nothing extracted (another propagator wrote it, or none is registered here): the ambient context.
    if (!producer || producer === trace.getSpanContext(ambient) || !trace.isSpanContextValid(producer)) return { parent: ambient, links: [] };
    return { parent, links: [{ context: producer }] };
  };

  const run = (job: JobRecord, traceContext: JobTraceContext | undefined): RunTrace => {
    const { parent, links } = created(traceContext);
    const attributes = more ? { ...processAttributes(job), ...more(snapshotOf(job)) } : processAttributes(job);
    const span = tracer.startSpan(`process ${job.plugin}`, { kind: SpanKind.CONSUMER, startTime: job.startedAt ?? Date.now(), links, attributes }, parent);
    open.add(span);
    const active = trace.setSpan(parent, span);
    let thrown: { error: unknown } | undefined;
    return {
      async wrap(execute) {
        try {
          return await context.with(active, execute);
        } catch (error) {
          thrown = { error };
          throw error;
        }
      },
      end(end: TryEnd) {
        if (!open.delete(span)) return; // stopped meanwhile
        const { status, error } = end;
        span.setAttribute('jobwire.status', status ?? 'unknown');
        if (error) span.setAttributes(errorAttributes(error));
        if (status === 'failed' || status === 'retrying' || status === undefined) {
          // The plugin's own error when it failed by throwing (its stack); else what jobwire ended the try with (a timeout, a result it refused).
          const message = error?.message ?? 'How this try ended could not be recorded';
          const pluginError = error?.code === 'PLUGIN_FAILED' ? thrown : undefined;
          span.recordException(pluginError ? exceptionOf(pluginError.error) : { name: 'JobwireError', code: error?.code ?? 'UNAVAILABLE', message }, end.at);
          span.setStatus({ code: SpanStatusCode.ERROR, message });
        }
        span.end(end.at);
      },
    };
  };

  const hooks: TraceHooks = { submit, run };
  setTraceHooks(tracker, hooks);
  return {
    stop() {
      if (traceHooksOf(tracker) === hooks) setTraceHooks(tracker, undefined);
      for (const span of open) span.end();
      open.clear();
    },
  };
}
