import { context, propagation, SpanKind, SpanStatusCode, trace, type Context, type TextMapPropagator } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, isJobwireError, JobTracker, LocalPluginManager } from '../../src/index.js';
import { traceJobs } from '../../src/otel/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';

const toMs = (time: [number, number]): number => time[0] * 1000 + time[1] / 1e6;

describe('traceJobs in one process (memory backend; spans read back with the SDK in-memory exporter)', () => {
  let exporter: InMemorySpanExporter;
  let provider: BasicTracerProvider;
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;

  const echo = definePlugin({
    name: 'echo',
    input: z.object({ fail: z.boolean().default(false), child: z.boolean().default(false) }),
    run: async (input) => {
      // A span of the plugin's own (an HTTP call it makes, say): it must nest in the try's span.
      if (input.child) provider.getTracer('plugin').startSpan('plugin work', {}, context.active()).end();
      if (input.fail) throw new TypeError('bad input file');
      return { ok: true };
    },
  });
  const slow = definePlugin({ name: 'slow', input: z.object({}), timeoutMs: 20, run: (_input, ctx) => new Promise((resolve) => ctx.signal.addEventListener('abort', () => resolve(1))) });

  beforeAll(() => {
    // What NodeSDK registers by default: async context, and W3C trace context on the wire.
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterAll(() => {
    context.disable();
    propagation.disable();
  });
  beforeEach(() => {
    exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(slow).register(control.plugin), concurrency: 1 });
  });
  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await provider.shutdown();
  });

  const spans = (): ReadableSpan[] => exporter.getFinishedSpans();
  const spansOf = (jobId: string): ReadableSpan[] => spans().filter((span) => span.attributes['messaging.message.id'] === jobId);
  /** The job's spans once `count` of them have ended (a try's span ends once its end is recorded, just after `wait` resolves). */
  const ended = async (jobId: string, count: number): Promise<ReadableSpan[]> => {
    await until(() => spansOf(jobId).length >= count, 5_000, `${count} spans of job ${jobId}`);
    return spansOf(jobId);
  };
  const byKind = (list: ReadableSpan[], kind: SpanKind): ReadableSpan[] => list.filter((span) => span.kind === kind);
  /** Run `fn` inside an active span, as an HTTP server's instrumentation runs a request handler. */
  const inRequest = async <T>(fn: () => Promise<T>): Promise<{ result: T; request: ReadableSpan }> => {
    const span = provider.getTracer('http').startSpan('POST /jobs', { kind: SpanKind.SERVER });
    const result = await context.with(trace.setSpan(context.active(), span), fn);
    span.end();
    return { result, request: spans().find((s) => s.name === 'POST /jobs' && s.spanContext().spanId === span.spanContext().spanId)! };
  };

  it('a submit is a PRODUCER span in the caller’s trace; its try a CONSUMER span, child of it and linked to it, with the semconv attributes', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test'), attributes: (job) => ({ 'app.tenant': job.tenantId ?? '' }) });
    const { result: job, request } = await inRequest(() => tracker.submit('echo', { child: true }, { tenantId: 'acme' }));
    const done = await tracker.wait(job.id);
    const list = await ended(job.id, 2);
    const [send] = byKind(list, SpanKind.PRODUCER);
    const [process] = byKind(list, SpanKind.CONSUMER);
    expect(send!.name).toBe('send echo');
    expect(send!.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send!.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(send!.attributes).toEqual({
      'messaging.system': 'jobwire',
      'messaging.system.name': 'jobwire',
      'messaging.operation.type': 'send',
      'messaging.operation.name': 'send',
      'messaging.destination.name': 'echo',
      'messaging.message.id': job.id,
      'jobwire.job.id': job.id,
      'jobwire.plugin': 'echo',
      'app.tenant': 'acme',
    });
    expect(process!.name).toBe('process echo');
    expect(process!.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
    expect(process!.links.map((link) => link.context)).toEqual([expect.objectContaining({ traceId: send!.spanContext().traceId, spanId: send!.spanContext().spanId })]);
    expect(process!.attributes).toMatchObject({
      'messaging.system': 'jobwire',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'echo',
      'messaging.message.id': job.id,
      'jobwire.job.id': job.id,
      'jobwire.attempt': 1,
      'jobwire.status': 'completed',
      'app.tenant': 'acme',
    });
    expect(process!.status.code).toBe(SpanStatusCode.UNSET);
    expect(process!.events).toEqual([]);
    expect(toMs(process!.startTime)).toBe(Date.parse(done.startedAt!));
    expect(toMs(process!.endTime)).toBe(Date.parse(done.finishedAt!));
    // The plugin ran inside its try's span.
    const work = spans().find((span) => span.name === 'plugin work')!;
    expect(work.parentSpanContext?.spanId).toBe(process!.spanContext().spanId);
    // The carrier stays with the job's record: never in what clients see.
    expect(JSON.stringify([done, await tracker.get(job.id)])).not.toMatch(/traceparent|traceContext/);
  });

  it('a failing plugin: its try’s span records the plugin’s exception (type, message, stack) and ends in ERROR', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const job = await tracker.submit('echo', { fail: true });
    expect((await tracker.wait(job.id)).status).toBe('failed');
    const [process] = byKind(await ended(job.id, 2), SpanKind.CONSUMER);
    expect(process!.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input file' });
    expect(process!.attributes).toMatchObject({ 'jobwire.status': 'failed', 'jobwire.error.code': 'PLUGIN_FAILED', 'error.type': 'PLUGIN_FAILED' });
    expect(process!.events.map((event) => event.name)).toEqual(['exception']);
    expect(process!.events[0]!.attributes).toMatchObject({ 'exception.type': 'TypeError', 'exception.message': 'bad input file' });
    expect(process!.events[0]!.attributes!['exception.stacktrace']).toMatch(/bad input file\n\s+at /);
  });

  it('a retried job: one CONSUMER span per try, each failed one in ERROR with its exception, all children of the one submit', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const job = await tracker.submit('echo', { fail: true }, { attempts: 2, backoff: { type: 'fixed', delayMs: 5 } });
    await tracker.wait(job.id);
    const list = await ended(job.id, 3);
    const [send] = byKind(list, SpanKind.PRODUCER);
    const tries = byKind(list, SpanKind.CONSUMER);
    expect(tries.map((span) => [span.attributes['jobwire.attempt'], span.attributes['jobwire.status']])).toEqual([
      [1, 'retrying'],
      [2, 'failed'],
    ]);
    for (const span of tries) {
      expect(span.status.code).toBe(SpanStatusCode.ERROR);
      expect(span.events.map((event) => event.attributes?.['exception.type'])).toEqual(['TypeError']);
      expect(span.parentSpanContext?.spanId).toBe(send!.spanContext().spanId);
      expect(span.links[0]?.context.spanId).toBe(send!.spanContext().spanId);
    }
  });

  it('a try that timed out records a JobwireError exception with its code; a cancelled one is no error', async () => {
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const timedOut = await tracker.submit('slow', {});
    expect((await tracker.wait(timedOut.id)).error?.code).toBe('TIMEOUT');
    const [late] = byKind(await ended(timedOut.id, 2), SpanKind.CONSUMER);
    expect(late!.status.code).toBe(SpanStatusCode.ERROR);
    expect(late!.events[0]!.attributes).toMatchObject({ 'exception.type': 'TIMEOUT', 'exception.message': 'Job timed out after 20 ms' });

    const running = await tracker.submit('controlled', {});
    await control.started(running.id);
    const waiting = await tracker.submit('echo', {});
    await tracker.cancel(waiting.id, 'not needed');
    await tracker.cancel(running.id, 'stop it');
    const [cancelled] = byKind(await ended(running.id, 2), SpanKind.CONSUMER);
    expect(cancelled!.status.code).toBe(SpanStatusCode.UNSET);
    expect(cancelled!.events).toEqual([]);
    expect(cancelled!.attributes).toMatchObject({ 'jobwire.status': 'cancelled', 'jobwire.error.code': 'CANCELLED' });
    // Cancelled while it waited: it never ran, so it has its submit's span only.
    expect((await ended(waiting.id, 1)).map((span) => span.name)).toEqual(['send echo']);
  });

  it('a submit refused by the queue ends its PRODUCER span in ERROR with the exception; a retry and a schedule tick are submits too', async () => {
    const full = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin), concurrency: 1, maxQueued: 0 });
    traceJobs(full, { tracer: provider.getTracer('test') });
    const blocker = await full.submit('controlled', {});
    await control.started(blocker.id);
    const refused = await full.submit('controlled', {}).catch((error: unknown) => error);
    expect(isJobwireError(refused) && refused.code).toBe('QUEUE_FULL');
    await until(() => spans().some((span) => span.status.code === SpanStatusCode.ERROR), 5_000, 'the refused submit’s span');
    const send = spans().find((span) => span.status.code === SpanStatusCode.ERROR)!;
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(send.attributes).toMatchObject({ 'messaging.operation.type': 'send', 'jobwire.error.code': 'QUEUE_FULL', 'error.type': 'QUEUE_FULL' });
    expect(send.events.map((event) => event.attributes?.['exception.message'])).toEqual([expect.stringContaining('Queue is full')]);
    await full.close({ timeoutMs: 0 });

    traceJobs(tracker, { tracer: provider.getTracer('test') });
    const failed = await tracker.wait((await tracker.submit('echo', { fail: true })).id);
    const again = await tracker.retry(failed.id);
    const [send2] = byKind(await ended(again.id, 1), SpanKind.PRODUCER);
    expect(send2!.attributes['jobwire.retry_of']).toBe(failed.id);
    await tracker.schedule('often', { everyMs: 60_000, plugin: 'echo', input: {} }); // ticks at once
    await until(() => spans().some((span) => span.attributes['jobwire.schedule.key'] === 'often'), 5_000, 'a tick’s submit span');
    await tracker.unschedule('often');
  });

  it('a trace context that is malformed or too large is dropped: the job runs, its try is not linked', async () => {
    const hostile: TextMapPropagator = {
      inject: (_context: Context, carrier: unknown) => Object.assign(carrier as Record<string, string>, { traceparent: `00-${'a'.repeat(10_000)}` }),
      extract: (ctx: Context) => ctx,
      fields: () => ['traceparent'],
    };
    propagation.disable();
    propagation.setGlobalPropagator(hostile);
    try {
      traceJobs(tracker, { tracer: provider.getTracer('test') });
      const job = await tracker.submit('echo', {});
      expect((await tracker.wait(job.id)).status).toBe('completed');
      const [process] = byKind(await ended(job.id, 2), SpanKind.CONSUMER);
      expect(process!.links).toEqual([]);
    } finally {
      propagation.disable();
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    }
  });

  it('stop() ends the spans still open and stops tracing; a second tracing of one tracker is refused; without an SDK nothing breaks', async () => {
    const tracing = traceJobs(tracker, { tracer: provider.getTracer('test') });
    expect(() => traceJobs(tracker)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG' }));
    const live = await tracker.submit('controlled', {});
    const { done } = await control.started(live.id);
    tracing.stop();
    expect(spansOf(live.id).map((span) => span.name).sort()).toEqual(['process controlled', 'send controlled']);
    done.resolve(1);
    await tracker.wait(live.id);
    await tracker.wait((await tracker.submit('echo', {})).id);
    expect(spans().filter((span) => span.name === 'send echo')).toEqual([]);
    // The global API with no SDK registered: a no-op tracer, jobs run as usual.
    const noSdk = traceJobs(tracker);
    expect((await tracker.wait((await tracker.submit('echo', {})).id)).status).toBe('completed');
    noSdk.stop();
    expect(spans().filter((span) => span.name === 'send echo')).toEqual([]);
  });
});
