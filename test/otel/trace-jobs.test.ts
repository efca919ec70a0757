import { SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from '../../src/index.js';
import { traceJobs } from '../../src/otel/index.js';
import { controlledPlugin } from '../helpers/controlled.js';

const echo = definePlugin({ name: 'echo', input: z.object({ fail: z.boolean().default(false) }), run: async (input) => (input.fail ? Promise.reject(new Error('bad input file')) : { ok: true }) });
const toMs = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6;

describe('traceJobs (OpenTelemetry, read back with the SDK in-memory exporter)', () => {
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin), concurrency: 1 });
  });
  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await provider.shutdown();
  });

  const spansOf = (jobId: string): ReadableSpan[] => exporter.getFinishedSpans().filter((span) => span.attributes['jobwire.job.id'] === jobId);

  it('a job span from submit to end with a run span inside it; status, ids and times from the job', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test'), attributes: (job) => ({ 'app.tenant': job.tenantId ?? '' }) });
    const done = await tracker.wait((await tracker.submit('echo', {}, { tenantId: 'acme' })).id);
    const spans = spansOf(done.id);
    const job = spans.find((span) => span.name === 'jobwire.job echo')!;
    const run = spans.find((span) => span.name === 'jobwire.run echo')!;
    expect(job).toBeDefined();
    expect(run.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(run.spanContext().traceId).toBe(job.spanContext().traceId);
    expect(job.attributes).toMatchObject({ 'jobwire.plugin': 'echo', 'jobwire.status': 'completed', 'app.tenant': 'acme' });
    expect(toMs(job.startTime)).toBe(Date.parse(done.createdAt));
    expect(toMs(job.endTime)).toBe(Date.parse(done.finishedAt!));
    expect(toMs(run.startTime)).toBe(Date.parse(done.startedAt!));
    expect(job.status.code).toBe(SpanStatusCode.UNSET);
  });

  it('a retried job has one run span per try: each failed try ends in ERROR with its attempt, inside one job span', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const done = await tracker.wait((await tracker.submit('echo', { fail: true }, { attempts: 2, backoff: { type: 'fixed', delayMs: 5 } })).id);
    const runs = spansOf(done.id).filter((span) => span.name === 'jobwire.run echo');
    const [job] = spansOf(done.id).filter((span) => span.name === 'jobwire.job echo');
    expect(runs.map((span) => span.attributes['jobwire.attempt'])).toEqual([1, 2]);
    expect(runs.map((span) => span.attributes['jobwire.status'])).toEqual(['retrying', 'failed']);
    for (const run of runs) {
      expect(run.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'bad input file' });
      expect(run.parentSpanContext?.spanId).toBe(job!.spanContext().spanId);
    }
  });

  it('a failed job ends with status ERROR and its message; a job cancelled while queued has no run span', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const failed = await tracker.wait((await tracker.submit('echo', { fail: true })).id);
    const [jobSpan] = spansOf(failed.id).filter((span) => span.name.startsWith('jobwire.job'));
    expect(jobSpan?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input file' });
    expect(jobSpan?.attributes['jobwire.error.code']).toBe('PLUGIN_FAILED');

    const blocker = await tracker.submit('controlled', {});
    await control.started(blocker.id);
    const waiting = await tracker.submit('echo', {});
    await tracker.cancel(waiting.id, 'not needed');
    const spans = spansOf(waiting.id);
    expect(spans.map((span) => span.name)).toEqual(['jobwire.job echo']);
    expect(spans[0]!.attributes).toMatchObject({ 'jobwire.status': 'cancelled', 'jobwire.error.code': 'CANCELLED' });
  });

  it('stop() removes the listeners and ends the spans still open; without an SDK nothing breaks', async () => {
    const tracing = traceJobs(tracker, { tracer: provider.getTracer('test') });
    const live = await tracker.submit('controlled', {});
    await control.started(live.id);
    tracing.stop();
    expect(spansOf(live.id).map((span) => span.name).sort()).toEqual(['jobwire.job controlled', 'jobwire.run controlled']);
    (await control.started(live.id)).done.resolve(1);
    await tracker.wait(live.id);
    await tracker.wait((await tracker.submit('echo', {})).id);
    expect(exporter.getFinishedSpans().filter((span) => span.name === 'jobwire.job echo')).toEqual([]);
    // The global API with no SDK registered: a no-op tracer, jobs run as usual.
    const noSdk = traceJobs(tracker);
    expect((await tracker.wait((await tracker.submit('echo', {})).id)).status).toBe('completed');
    noSdk.stop();
    expect(exporter.getFinishedSpans().filter((span) => span.name === 'jobwire.job echo')).toEqual([]);
  });
});
