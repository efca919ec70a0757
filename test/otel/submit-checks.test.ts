import { SpanKind } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from '../../src/index.js';
import { traceJobs } from '../../src/otel/index.js';
import { rejection, until } from '../helpers/deferred.js';

describe('traceJobs and a submit that fails its checks', () => {
  let tracker: JobTracker | undefined;
  let provider: BasicTracerProvider | undefined;
  afterEach(async () => {
    await tracker?.close({ timeoutMs: 0 });
    await provider?.shutdown();
  });

  it('a too large input or metadata makes no span: the next submit is the only one traced', async () => {
    const exporter = new InMemorySpanExporter();
    provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
    const echo = definePlugin({ name: 'echo', input: z.object({ text: z.string() }), run: (input) => input });
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo), limits: { inputBytes: 1_024, metadataBytes: 1_024 } });
    traceJobs(tracker, { tracer: provider.getTracer('test') });
    expect(await rejection(tracker.submit('echo', { text: 'x'.repeat(2_000) }))).toMatchObject({ code: 'INVALID_INPUT' });
    expect(await rejection(tracker.submit('echo', { text: 'ok' }, { metadata: { note: 'x'.repeat(2_000) } }))).toMatchObject({ code: 'INVALID_REQUEST' });
    const job = await tracker.submit('echo', { text: 'ok' });
    await until(() => exporter.getFinishedSpans().some((span) => span.kind === SpanKind.PRODUCER), 5_000, 'the valid submit to be traced');
    expect(exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.PRODUCER).map((span) => span.attributes['messaging.message.id'])).toEqual([job.id]);
  });
});
