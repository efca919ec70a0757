import { fork, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JobTracker, type JobSnapshot } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { traceJobs, type JobTracing } from '../../src/otel/index.js';
import { until } from '../helpers/deferred.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';
import { registerSdk, type SpanJson } from './fixtures/otel-sdk.js';
import { tracedPlugins } from './fixtures/plugins.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: cross-process tracing on Redis — no Redis answers on 127.0.0.1:6379');
const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: cross-process tracing on PostgreSQL — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = uniquePrefix();
const DATABASES = [
  { name: 'Redis', url: REDIS_URL, up: redisUp, cleanup: () => deleteKeys(prefix) },
  { name: 'PostgreSQL', url: POSTGRES_URL, up: postgresUp, cleanup: () => deleteQueues(prefix) },
];

interface Worker {
  child: ChildProcess;
  /** The worker's finished spans, as it reports them now. */
  spans(): Promise<SpanJson[]>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function startWorker(connection: string, queueName: string): Promise<Worker> {
  const child = fork(resolve(import.meta.dirname, 'fixtures/traced-worker.ts'), [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, CONNECTION: connection, QUEUE_NAME: queueName, PREFIX: prefix },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let ready = false;
  let reply: ((spans: SpanJson[]) => void) | undefined;
  child.on('message', (message: { type: string; spans?: SpanJson[] }) => {
    if (message.type === 'ready') ready = true;
    if (message.type === 'spans') reply?.(message.spans ?? []);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) => child.once('exit', (code, signal) => done({ code, signal })));
  await until(() => ready, 20_000, 'the worker process to start');
  const spans = (): Promise<SpanJson[]> =>
    new Promise((done) => {
      reply = done;
      child.send({ type: 'spans' });
    });
  return { child, spans, exited };
}

describe.each(DATABASES)('traces cross processes on BullMQ on $name (API here, a forked worker)', (database) => {
  let sdk: ReturnType<typeof registerSdk>;
  let worker: Worker;
  let api: JobTracker;
  let tracing: JobTracing;

  beforeAll(async () => {
    if (!database.up) return;
    sdk = registerSdk();
    const queueName = `${prefix}-otel-${database.name}`;
    worker = await startWorker(database.url, queueName);
    api = new JobTracker({ plugins: tracedPlugins(), backend: new BullMQBackend({ connection: database.url, queueName, prefix, role: 'producer' }) });
    tracing = traceJobs(api);
  }, 60_000);

  afterAll(async () => {
    if (!database.up) return;
    tracing.stop();
    await api.close();
    worker.child.send({ type: 'close' });
    const exit = await Promise.race([worker.exited, new Promise<'hung'>((done) => setTimeout(() => done('hung'), 20_000))]);
    if (exit === 'hung') worker.child.kill('SIGKILL');
    await sdk.unregister();
    await database.cleanup();
    expect(exit).toEqual({ code: 0, signal: null });
  }, 60_000);

  /** Submit inside an HTTP request's span, as a request handler would; the job once it ended, and the request's span. */
  async function submitInRequest(input: { fail?: boolean }): Promise<{ job: JobSnapshot; request: ReadableSpan }> {
    const span = trace.getTracer('http').startSpan('POST /jobs', { kind: SpanKind.SERVER });
    const submitted = await context.with(trace.setSpan(context.active(), span), () => api.submit('echo', input));
    span.end();
    const job = await api.wait(submitted.id, { timeoutMs: 30_000 });
    const request = sdk.exporter.getFinishedSpans().find((s) => s.spanContext().spanId === span.spanContext().spanId)!;
    return { job, request };
  }

  /** The worker's spans of job `id` once its try's span has ended there. */
  async function workerSpans(id: string): Promise<{ process: SpanJson; all: SpanJson[] }> {
    let all: SpanJson[] = [];
    await until(async () => (all = await worker.spans()).some((span) => span.kind === SpanKind.CONSUMER && span.attributes['messaging.message.id'] === id), 15_000, `the worker's span of job ${id}`);
    return { process: all.find((span) => span.kind === SpanKind.CONSUMER && span.attributes['messaging.message.id'] === id)!, all };
  }

  const sendSpanOf = (id: string): ReadableSpan => sdk.exporter.getFinishedSpans().find((span) => span.kind === SpanKind.PRODUCER && span.attributes['messaging.message.id'] === id)!;

  it.skipIf(!database.up)('the PRODUCER span is a child of the request’s; the worker’s CONSUMER span continues its trace, linked to it, and the plugin’s spans nest inside', async () => {
    const { job, request } = await submitInRequest({});
    expect(job.status).toBe('completed');
    const send = sendSpanOf(job.id);
    expect(send.name).toBe('send echo');
    expect(send.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(send.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(send.attributes).toMatchObject({ 'messaging.system': 'jobwire', 'messaging.operation.type': 'send', 'messaging.destination.name': 'echo', 'messaging.message.id': job.id });

    const { process, all } = await workerSpans(job.id);
    expect(process.name).toBe('process echo');
    expect(process.traceId).toBe(request.spanContext().traceId);
    expect(process.parentSpanId).toBe(send.spanContext().spanId);
    expect(process.links).toEqual([{ traceId: send.spanContext().traceId, spanId: send.spanContext().spanId }]);
    expect(process.attributes).toMatchObject({
      'messaging.system': 'jobwire',
      'messaging.operation.type': 'process',
      'messaging.destination.name': 'echo',
      'messaging.message.id': job.id,
      'jobwire.job.id': job.id,
      'jobwire.plugin': 'echo',
      'jobwire.attempt': 1,
      'jobwire.status': 'completed',
    });
    expect(process.status.code).toBe(SpanStatusCode.UNSET);
    expect(all.find((span) => span.name === 'plugin work')?.parentSpanId).toBe(process.spanId);
    // Each process made only its own spans: the API no try's, the worker no submit's.
    expect(sdk.exporter.getFinishedSpans().filter((span) => span.kind === SpanKind.CONSUMER)).toEqual([]);
    expect(all.filter((span) => span.kind === SpanKind.PRODUCER)).toEqual([]);
  });

  it.skipIf(!database.up)('a failing plugin: the worker’s CONSUMER span has the exception event and status ERROR, in the request’s trace', async () => {
    const { job, request } = await submitInRequest({ fail: true });
    expect(job.status).toBe('failed');
    const { process } = await workerSpans(job.id);
    expect(process.traceId).toBe(request.spanContext().traceId);
    expect(process.links[0]?.spanId).toBe(sendSpanOf(job.id).spanContext().spanId);
    expect(process.status).toEqual({ code: SpanStatusCode.ERROR, message: 'bad input file' });
    expect(process.attributes).toMatchObject({ 'jobwire.status': 'failed', 'jobwire.error.code': 'PLUGIN_FAILED', 'error.type': 'PLUGIN_FAILED' });
    expect(process.events).toEqual([{ name: 'exception', attributes: expect.objectContaining({ 'exception.type': 'TypeError', 'exception.message': 'bad input file' }) }]);
  });
});
