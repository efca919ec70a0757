import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { EventSource } from 'eventsource';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isStatusEvent, type JobEvent, type JobOutput, type JobOutputEvent, type JobSnapshot, type PluginMeta, type StoredResult } from '../../src/index.js';
import { until } from '../helpers/deferred.js';
import { isAlive } from '../helpers/isolation.js';
import { parsePrometheus, valueOf } from '../helpers/prometheus.js';
import { startExample, type ExampleProcess } from '../helpers/example-process.js';

/** How long any one job of these tests may take on a loaded machine before following it fails. */
const FOLLOW_MS = 60_000;
/** Per test: a job or two, on a loaded machine. */
const TEST_MS = 90_000;
/** Starting an example server under tsx, on a loaded machine. */
const START_MS = 90_000;

/** Follow a job's events with the `eventsource` client until the server tells it to stop (204). */
function follow(url: string, onEvent: (event: JobEvent) => void = () => {}): Promise<JobEvent[]> {
  return new Promise((resolve, reject) => {
    const events: JobEvent[] = [];
    const source = new EventSource(url);
    const timer = setTimeout(() => {
      source.close();
      reject(new Error(`no end after ${events.map((e) => e.type).join(',')}`));
    }, FOLLOW_MS);
    for (const type of ['queued', 'started', 'progress', 'retrying', 'completed', 'failed', 'cancelled', 'output', 'gap']) {
      source.addEventListener(type, (message) => {
        const event = JSON.parse(message.data) as JobEvent;
        events.push(event);
        onEvent(event);
      });
    }
    source.onerror = () => {
      if (source.readyState !== EventSource.CLOSED) return;
      clearTimeout(timer);
      resolve(events);
    };
  });
}

/** Follow a job whose progress messages read `pid N`; `pid()` is the latest N seen (0 before any). */
function followPid(url: string): { following: Promise<JobEvent[]>; pid(): number } {
  let pid = 0;
  const following = follow(url, (event) => {
    const match = isStatusEvent(event) ? /^pid (\d+)$/.exec(event.job.message ?? '') : null;
    if (match) pid = Number(match[1]);
  });
  return { following, pid: () => pid };
}

async function post(url: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe.each([
  ['Hono (npm start)', 'hono/server.ts'],
  ['Express', 'express/server.ts'],
  ['Fastify', 'fastify/server.ts'],
  ['node:http', 'node-http/server.ts'],
])('the %s example, started for real', (_name, file) => {
  let example: ExampleProcess;
  beforeAll(async () => {
    example = await startExample(file);
  }, START_MS);
  afterAll(async () => {
    expect(await example.stop()).toBe(0);
  });

  it('lists the sample plugins with their JSON Schemas, and the retry policy of the flaky one', async () => {
    const response = await fetch(`${example.url}/plugins`);
    expect(response.status).toBe(200);
    const { plugins } = (await response.json()) as { plugins: PluginMeta[] };
    expect(plugins.map((p) => p.name).sort()).toEqual(['child-process', 'flaky', 'steps', 'tokens', 'transcribe']);
    expect(plugins.find((p) => p.name === 'flaky')?.retry).toEqual({ attempts: 3, backoff: { type: 'fixed', delayMs: 3_000 } });
    expect(plugins.find((p) => p.name === 'steps')?.inputSchema).toMatchObject({ type: 'object', properties: { steps: { type: 'integer' } } });
  });

  it('runs a job to completion, followed live over SSE, and keeps its result', { timeout: TEST_MS }, async () => {
    const created = await post(`${example.url}/jobs`, { plugin: 'steps', input: { steps: 4, stepMs: 30, label: 'part' } });
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobSnapshot;
    expect(job.status).toBe('queued');
    const events = await follow(`${example.url}/jobs/${job.id}/events`);
    expect(events[0]?.type).toBe('queued');
    expect(events.at(-1)).toMatchObject({ type: 'completed', job: { status: 'completed', progress: 100, result: { steps: 4, label: 'part' } } });
    expect(events.filter((e) => e.type === 'progress').length).toBeGreaterThan(0);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    const stored = (await (await fetch(`${example.url}/jobs/${job.id}`)).json()) as JobSnapshot;
    expect(stored.result).toEqual({ steps: 4, label: 'part' });
    const listed = (await (await fetch(`${example.url}/jobs?status=completed`)).json()) as { jobs: JobSnapshot[] };
    expect(listed.jobs.map((j) => j.id)).toContain(job.id);
  });

  it('cancelling the child-process job kills the process', { timeout: TEST_MS }, async () => {
    const job = (await (await post(`${example.url}/jobs`, { plugin: 'child-process', input: { seconds: 30 } })).json()) as JobSnapshot;
    const { following, pid: seen } = followPid(`${example.url}/jobs/${job.id}/events`);
    await until(() => seen() > 0, 30_000, 'the child pid');
    const pid = seen();
    expect(isAlive(pid)).toBe(true);
    const cancelled = await fetch(`${example.url}/jobs/${job.id}`, { method: 'DELETE' });
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as JobSnapshot).status).toBe('cancelled');
    expect((await following).at(-1)?.type).toBe('cancelled');
    await until(() => !isAlive(pid), 15_000, `process ${pid} to exit`);
    // Finished: a second DELETE removes it.
    expect((await fetch(`${example.url}/jobs/${job.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await fetch(`${example.url}/jobs/${job.id}`)).status).toBe(404);
  });

  it('retries the flaky job over SSE, and re-runs a finished one with POST /jobs/:id/retry', { timeout: TEST_MS }, async () => {
    const job = (await (await post(`${example.url}/jobs`, { plugin: 'flaky', input: { failures: 1, stepMs: 10 } })).json()) as JobSnapshot;
    expect(job).toMatchObject({ attempt: 1, maxAttempts: 3 });
    const events = await follow(`${example.url}/jobs/${job.id}/events`);
    const retrying = events.filter(isStatusEvent).find((e) => e.type === 'retrying');
    expect(retrying?.job).toMatchObject({ status: 'queued', attempt: 2, lastError: { code: 'PLUGIN_FAILED' } });
    expect(Date.parse(retrying?.job.runAt ?? '') - Date.parse(retrying?.at ?? '')).toBeGreaterThan(2_000); // the plugin's fixed 3 s backoff
    expect(events.at(-1)).toMatchObject({ type: 'completed', job: { attempt: 2, result: { attempt: 2 } } });

    const cancelled = (await (await post(`${example.url}/jobs/${job.id}/cancel`, {})).json()) as JobSnapshot;
    expect(cancelled.status).toBe('completed'); // too late to cancel; a completed job is not re-run
    expect((await fetch(`${example.url}/jobs/${job.id}/retry`, { method: 'POST' })).status).toBe(400);
    const delayed = (await (await post(`${example.url}/jobs`, { plugin: 'steps', input: { steps: 1, stepMs: 10 }, delayMs: 60_000 })).json()) as JobSnapshot;
    expect(delayed).toMatchObject({ status: 'queued', runAt: expect.any(String) });
    expect((await fetch(`${example.url}/jobs/${delayed.id}`, { method: 'DELETE' })).status).toBe(200);
    const rerun = await fetch(`${example.url}/jobs/${delayed.id}/retry`, { method: 'POST' });
    expect(rerun.status).toBe(202);
    const again = (await rerun.json()) as JobSnapshot;
    expect(rerun.headers.get('location')).toBe(`/jobs/${again.id}`);
    expect(again).toMatchObject({ plugin: 'steps', retryOf: delayed.id });
    expect(again.runAt).toBeUndefined(); // a re-run starts now
    expect((await follow(`${example.url}/jobs/${again.id}/events`)).at(-1)?.type).toBe('completed');
    expect(await (await fetch(`${example.url}/schedules`)).json()).toEqual({ schedules: [] });
  });

  it('streams the output a job writes live over SSE (event: output), and serves it at GET /jobs/:id/output and in its result', { timeout: TEST_MS }, async () => {
    const job = (await (await post(`${example.url}/jobs`, { plugin: 'transcribe', input: { segments: 6, segmentMs: 20 } })).json()) as JobSnapshot;
    const events = await follow(`${example.url}/jobs/${job.id}/events`);
    const output = events.filter((e): e is JobOutputEvent => e.type === 'output');
    expect(output.map((e) => e.chunk)).toEqual([
      { start: 0, end: 1.8, text: 'Welcome back to the show.' },
      { start: 1.8, end: 5, text: 'Today we talk about jobs that take a while.' },
      { start: 5, end: 7.8, text: 'A transcription does not finish all at once:' },
      { start: 7.8, end: 10.3, text: 'it hears one sentence, then the next.' },
      { start: 10.3, end: 13.8, text: 'So the page can show each one as it comes,' },
      { start: 13.8, end: 17, text: 'and a reload shows what was said so far.' },
    ]);
    expect(events.map((e) => e.seq)).toEqual([...events.map((e) => e.seq)].sort((a, b) => a - b));
    expect(events.at(-1)).toMatchObject({ type: 'completed', job: { result: { segments: 6, seconds: 17 } } });
    const retained = (await (await fetch(`${example.url}/jobs/${job.id}/output`)).json()) as JobOutput;
    expect(retained).toEqual({ chunks: output.map((e) => e.chunk), gap: false, lastSeq: output.at(-1)!.seq });
    expect(((await (await fetch(`${example.url}/jobs/${job.id}/result`)).json()) as StoredResult).output).toEqual({ chunks: retained.chunks });

    // A token flood: the text arrives whole (adjacent strings may come merged), and the result keeps it as text.
    const tokens = (await (await post(`${example.url}/jobs`, { plugin: 'tokens', input: { tokens: 5_000, tokenMs: 0 } })).json()) as JobSnapshot;
    const streamed = (await follow(`${example.url}/jobs/${tokens.id}/events`)).filter((e): e is JobOutputEvent => e.type === 'output');
    const text = streamed.map((e) => e.chunk as string).join('');
    expect(text.startsWith('Live output lets a job show its work as it goes.')).toBe(true);
    expect(((await (await fetch(`${example.url}/jobs/${tokens.id}/output`)).json()) as JobOutput).chunks.join('')).toBe(text);
    expect(((await (await fetch(`${example.url}/jobs/${tokens.id}/result`)).json()) as StoredResult).output).toEqual({ text });
    expect((await fetch(`${example.url}/jobs/AAAAAAAAAAAAAAAAAAAAAA/output`)).status).toBe(404);
  });

  it('answers bad requests with the JSON error shape', async () => {
    const invalid = await post(`${example.url}/jobs`, { plugin: 'steps', input: { steps: 'many' } });
    expect(invalid.status).toBe(422);
    expect(await invalid.json()).toMatchObject({ error: { code: 'INVALID_INPUT', details: expect.any(Array) } });
    const malformed = await fetch(`${example.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
    const large = await post(`${example.url}/jobs`, { plugin: 'steps', input: { label: 'x'.repeat(2_000_000) } });
    expect(large.status).toBe(413);
    expect(await large.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    const unknownPlugin = await post(`${example.url}/jobs`, { plugin: 'nope', input: {} });
    expect(unknownPlugin.status).toBe(404);
    const unknownJob = await fetch(`${example.url}/jobs/AAAAAAAAAAAAAAAAAAAAAA/events`);
    expect(unknownJob.status).toBe(404);
    expect(await unknownJob.json()).toMatchObject({ error: { code: 'JOB_NOT_FOUND' } });
  });
});

describe('npm start serves the demo page', () => {
  let example: ExampleProcess;
  beforeAll(async () => {
    example = await startExample('hono/server.ts');
  }, START_MS);
  afterAll(async () => {
    await example.stop();
  });

  it('prints its URL and serves the page with the test ids', async () => {
    expect(example.output()).toMatch(/^jobwire demo \(Hono\) listening on http:\/\/127\.0\.0\.1:\d+$/m);
    const page = await fetch(`${example.url}/`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    for (const id of ['start', 'delay', 'progress', 'status', 'countdown', 'last-error', 'cancel', 'rerun', 'output', 'result', 'recent']) expect(html).toContain(`data-testid="${id}"`);
  });

  it('serves the htmx page and its two scripts from node_modules, not a CDN', async () => {
    const page = await fetch(`${example.url}/htmx`);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();
    const scripts = [...html.matchAll(/<script src="([^"]+)"/g)].map((match) => match[1]!);
    expect(scripts).toEqual(['/vendor/htmx.min.js', '/vendor/htmx-ext-sse.js']);
    for (const [src, file] of [
      ['/vendor/htmx.min.js', 'node_modules/htmx.org/dist/htmx.min.js'],
      ['/vendor/htmx-ext-sse.js', 'node_modules/htmx-ext-sse/dist/sse.js'],
    ]) {
      const script = await fetch(`${example.url}${src!}`);
      expect(script.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(await script.text()).toBe(readFileSync(resolve(import.meta.dirname, '../..', file!), 'utf8'));
    }
    expect((await fetch(`${example.url}/vendor/other.js`)).status).toBe(404);
  });

  it('on a port in use, says so and which variable moves it, and exits 1', { timeout: START_MS }, async () => {
    const port = new URL(example.url).port; // the running demo holds it
    const error = await startExample('hono/server.ts', { PORT: port }).then(
      () => new Error('a second server started on a port in use'),
      (failed: unknown) => failed as Error,
    );
    expect(error.message).toContain('exited (1) before listening');
    expect(error.message).toContain(`127.0.0.1:${port} is in use; start it on another port, e.g. PORT=${Number(port) + 1}`);
    expect(error.message).not.toContain('    at '); // no stack trace
  });

  it('exposes Prometheus metrics at /metrics that count the jobs it ran', { timeout: TEST_MS }, async () => {
    const job = (await (await fetch(`${example.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"steps","input":{"steps":2,"stepMs":10}}' })).json()) as JobSnapshot;
    await fetch(`${example.url}/jobs/${job.id}/events`).then((r) => r.text());
    const response = await fetch(`${example.url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const samples = parsePrometheus(await response.text());
    expect(valueOf(samples, 'jobwire_jobs_total', { plugin: 'steps', status: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'jobwire_job_duration_seconds_count', { plugin: 'steps', status: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'jobwire_jobs_in_state', { state: 'completed' })).toBeGreaterThanOrEqual(1);
    expect(valueOf(samples, 'jobwire_sse_streams')).toBe(0);
  });
});

describe('the isolation example: plugins from a folder, in a thread and in a process', () => {
  let example: ExampleProcess;
  beforeAll(async () => {
    example = await startExample('isolation/server.ts');
  }, START_MS);
  afterAll(async () => {
    expect(await example.stop()).toBe(0);
  });

  it('loads both plugins from its folder, each marked with its isolation', async () => {
    expect(example.output()).toContain('plugins: primes, transcode');
    const { plugins } = (await (await fetch(`${example.url}/plugins`)).json()) as { plugins: PluginMeta[] };
    expect(plugins.map(({ name, isolation }) => [name, isolation])).toEqual([
      ['primes', 'thread'],
      ['transcode', 'process'],
    ]);
  });

  it('answers HTTP while the thread computes, and streams its progress to the end', { timeout: TEST_MS }, async () => {
    const job = (await (await post(`${example.url}/jobs`, { plugin: 'primes', input: { below: 150_000_000 } })).json()) as JobSnapshot;
    const following = follow(`${example.url}/jobs/${job.id}/events`);
    await until(async () => ((await (await fetch(`${example.url}/jobs/${job.id}`)).json()) as JobSnapshot).status === 'running', 30_000, 'the job to start');
    // The host is not blocked: another request is answered while the job still runs.
    expect((await fetch(`${example.url}/plugins`)).status).toBe(200);
    expect(((await (await fetch(`${example.url}/jobs/${job.id}`)).json()) as JobSnapshot).status).toBe('running');
    const events = await following;
    // 20 reports; a reader that falls behind gets the latest of those it missed (progress coalesces),
    // so how many arrive depends on load. The first ones are far apart: at least two arrive.
    expect(events.filter((event) => event.type === 'progress').length).toBeGreaterThanOrEqual(2);
    expect(events.at(-1)).toMatchObject({ type: 'completed', job: { result: { below: 150_000_000, primes: 8_444_396 } } });
  });

  it('cancelling the process job kills its program with the process group', { timeout: TEST_MS }, async () => {
    const job = (await (await post(`${example.url}/jobs`, { plugin: 'transcode', input: { seconds: 60 } })).json()) as JobSnapshot;
    const { following, pid: seen } = followPid(`${example.url}/jobs/${job.id}/events`);
    await until(() => seen() > 0, 30_000, 'the program pid');
    const pid = seen();
    expect(isAlive(pid)).toBe(true);
    expect(((await (await fetch(`${example.url}/jobs/${job.id}`, { method: 'DELETE' })).json()) as JobSnapshot).status).toBe('cancelled');
    expect((await following).at(-1)?.type).toBe('cancelled');
    await until(() => !isAlive(pid), 15_000, `program ${pid} to be gone`);
  });
});
