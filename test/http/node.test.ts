import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type JobSnapshot } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';
import { countOpenStreams } from '../../src/sse/index.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { until } from '../helpers/deferred.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { parseSSE } from '../helpers/sse.js';

const echo = definePlugin({ name: 'echo', input: z.object({ text: z.string() }), run: async (input) => ({ text: input.text }) });

/** Send a chunked body (no Content-Length) with node's own client. */
function postChunked(url: string, chunks: string[]): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', (error: NodeJS.ErrnoException) => (error.code === 'EPIPE' || error.code === 'ECONNRESET' ? undefined : reject(error)));
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/**
 * Send a raw HTTP/1.0 request over a socket (for requests `fetch` refuses to send) and read the whole
 * answer: for HTTP/1.0 the server sends the body unchunked and ends the socket after it.
 */
function rawRequest(url: string, head: string, body = ''): Promise<{ status: number; body: string }> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1');
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('end', () => {
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
      resolve({ status, body: text.slice(text.indexOf('\r\n\r\n') + 4) });
    });
    socket.on('error', reject);
    socket.write(`${head}\r\n${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`);
  });
}

describe('toNodeHandler over node:http', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let server: TestServer;
  const nextCalls: string[] = [];

  beforeEach(async () => {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin) });
    const handler = toNodeHandler(createJobRoutes(tracker, { maxBodyBytes: 1_000 }));
    nextCalls.length = 0;
    server = await startServer(async (req: IncomingMessage, res: ServerResponse) => {
      if (req.url === '/parsed-first') {
        // What a body parser (express.json()) leaves behind: the body read and parsed on req.body.
        let text = '';
        for await (const chunk of req) text += String(chunk);
        Object.assign(req, { body: JSON.parse(text) as unknown, url: '/jobs' });
        return handler(req, res);
      }
      if (req.url === '/no-next') return handler(req, res);
      await handler(req, res, () => {
        nextCalls.push(req.url ?? '');
        // The next handler still gets the whole body: the routes did not touch it.
        let text = '';
        req.setEncoding('utf8');
        req.on('data', (chunk: string) => (text += chunk));
        req.on('end', () => res.writeHead(418).end(`not jobwire: ${text}`));
      });
    });
  });
  afterEach(async () => {
    await tracker.close({ timeoutMs: 0 });
    await server.close();
  });

  it('serves the routes: submit, get, list, plugins', async () => {
    const created = await fetch(`${server.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plugin: 'echo', input: { text: 'hi' } }) });
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobSnapshot;
    expect(created.headers.get('location')).toBe(`/jobs/${job.id}`);
    await tracker.wait(job.id);
    expect(await (await fetch(`${server.url}/jobs/${job.id}`)).json()).toMatchObject({ status: 'completed', result: { text: 'hi' } });
    expect(((await (await fetch(`${server.url}/jobs`)).json()) as { jobs: unknown[] }).jobs).toHaveLength(1);
    expect((await fetch(`${server.url}/plugins`)).status).toBe(200);
  });

  it('serves the retry and schedules routes: a re-run with its Location, a delayed submit, the schedule list', async () => {
    const running = await tracker.submit('controlled', {});
    await control.started(running.id);
    expect((await fetch(`${server.url}/jobs/${running.id}/retry`, { method: 'POST' })).status).toBe(400);
    expect((await fetch(`${server.url}/jobs/${running.id}/cancel`, { method: 'POST' })).status).toBe(200);
    const rerun = await fetch(`${server.url}/jobs/${running.id}/retry`, { method: 'POST' });
    expect(rerun.status).toBe(202);
    const job = (await rerun.json()) as JobSnapshot;
    expect(rerun.headers.get('location')).toBe(`/jobs/${job.id}`);
    expect(job.retryOf).toBe(running.id);
    const delayed = await fetch(`${server.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'plugin=echo&input.text=later&delayMs=60000&attempts=2' });
    expect(await delayed.json()).toMatchObject({ status: 'queued', maxAttempts: 2, runAt: expect.any(String) as unknown });
    await tracker.schedule('hourly', { cron: '0 * * * *', plugin: 'echo', input: { text: 'tick' } });
    expect(await (await fetch(`${server.url}/schedules`)).json()).toMatchObject({ schedules: [{ key: 'hourly', cron: '0 * * * *', plugin: 'echo' }] });
    expect(nextCalls).toEqual([]);
  });

  it('serves the output route and streams output events: GET /jobs/:id/output and `event: output` frames', async () => {
    const job = await tracker.submit('controlled', {});
    const run = await control.started(job.id);
    run.ctx.write('line one\r\n');
    run.ctx.write({ text: 'two', nul: '\0' });
    await until(async () => (await tracker.output(job.id)).chunks.length === 2, 5_000, 'the chunks to be written');
    const live = await fetch(`${server.url}/jobs/${job.id}/output`);
    expect(live.status).toBe(200);
    expect(live.headers.get('content-type')).toBe('application/json; charset=utf-8');
    expect(await live.json()).toEqual({ chunks: ['line one\r\n', { text: 'two', nul: '\0' }], gap: false, lastSeq: 4 });
    run.done.resolve(null);
    await tracker.wait(job.id);
    const { events } = parseSSE(await (await fetch(`${server.url}/jobs/${job.id}/events`)).text());
    const output = events.filter((event) => event.event === 'output');
    expect(output.map((event) => event.id)).toEqual(['3', '4']);
    expect(output.map((event) => (JSON.parse(event.data) as { chunk: unknown }).chunk)).toEqual(['line one\r\n', { text: 'two', nul: '\0' }]);
    expect((await fetch(`${server.url}/jobs/AAAAAAAAAAAAAAAAAAAAAA/output`)).status).toBe(404);
    expect((await fetch(`${server.url}/jobs/${job.id}/output`, { method: 'POST' })).status).toBe(405);
    expect(nextCalls).toEqual([]);
  });

  it('uses a body a parser already read', async () => {
    const response = await fetch(`${server.url}/parsed-first`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plugin: 'echo', input: { text: 'pre' } }) });
    expect(response.status).toBe(202);
    expect(((await response.json()) as JobSnapshot).input).toEqual({ text: 'pre' });
  });

  it('cuts off a chunked body past maxBodyBytes with 413', async () => {
    const { status, body } = await postChunked(`${server.url}/jobs`, ['{"plugin":"echo","input":{"text":"', 'x'.repeat(600), 'x'.repeat(600), '"}}']);
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
    expect((await tracker.list()).jobs).toEqual([]);
    // The connection survives: the client read the 413 and can go on.
    expect((await fetch(`${server.url}/plugins`)).status).toBe(200);
  });

  it('answers 413 by Content-Length at once and the client still reads it', async () => {
    const response = await fetch(`${server.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ plugin: 'echo', input: { text: 'x'.repeat(3_000_000) } }) });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });
  });

  it('hands requests that are not its own to next, or answers 404 without one', async () => {
    const other = await fetch(`${server.url}/elsewhere`, { method: 'POST', body: 'x'.repeat(100_000) });
    expect(other.status).toBe(418);
    expect(await other.text()).toBe(`not jobwire: ${'x'.repeat(100_000)}`);
    expect(nextCalls).toEqual(['/elsewhere']);
    const none = await fetch(`${server.url}/no-next`);
    expect(none.status).toBe(404);
    expect(await none.json()).toMatchObject({ error: { code: 'NOT_FOUND' } });
  });

  it('requests node accepts but Request/URL refuse: 400 on our routes, next (untouched) or 404 elsewhere', async () => {
    const cases = [
      ['TRACE', 'Host: x'],
      ['GET', 'Host: a b'],
      ['GET', 'Host: x:99999'],
      ['GET', 'Host: a/b'],
    ] as const;
    for (const [method, host] of cases) {
      const ours = await rawRequest(server.url, `${method} /jobs HTTP/1.0\r\n${host}`);
      expect(ours.status, `${method} ${host}`).toBe(400);
      expect(JSON.parse(ours.body), `${method} ${host}`).toMatchObject({ error: { code: 'INVALID_REQUEST' } });
      const theirs = await rawRequest(server.url, `${method} /mine HTTP/1.0\r\n${host}`, 'payload');
      expect(theirs, `${method} ${host}`).toEqual({ status: 418, body: 'not jobwire: payload' });
      const none = await rawRequest(server.url, `${method} /no-next HTTP/1.0\r\n${host}`);
      expect(none.status).toBe(404);
      expect(JSON.parse(none.body)).toEqual({ error: { code: 'NOT_FOUND', message: 'Not found' } });
    }
    // Absolute-form targets with credentials: the path decides whose they are; the credentials are never echoed.
    const credentials = await rawRequest(server.url, 'GET http://u:secret@127.0.0.1/jobs/abc/events HTTP/1.0\r\nHost: 127.0.0.1');
    expect(credentials.status).toBe(400);
    expect(credentials.body).not.toContain('secret');
    expect((await rawRequest(server.url, 'POST http://u:p@127.0.0.1/elsewhere HTTP/1.0\r\nHost: 127.0.0.1', 'x'))).toEqual({ status: 418, body: 'not jobwire: x' });
    expect((await rawRequest(server.url, 'OPTIONS * HTTP/1.0\r\nHost: 127.0.0.1')).status).toBe(418);
    expect(nextCalls).toContain('/mine');
    expect((await tracker.list()).jobs).toEqual([]);
    // Absolute-form without credentials is served as usual.
    expect((await rawRequest(server.url, 'GET http://127.0.0.1/plugins HTTP/1.0\r\nHost: 127.0.0.1')).status).toBe(200);
  });

  it('an origin-form target like //other/jobs is that path, not /jobs on host "other"', async () => {
    expect((await rawRequest(server.url, 'GET //other/jobs HTTP/1.0\r\nHost: 127.0.0.1')).status).toBe(418);
    expect(nextCalls).toEqual(['//other/jobs']);
  });

  it('streams SSE and frees the stream when the client leaves', async () => {
    const job = (await (await fetch(`${server.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"controlled","input":{}}' })).json()) as JobSnapshot;
    const run = await control.started(job.id);
    const controller = new AbortController();
    const response = await fetch(`${server.url}/jobs/${job.id}/events`, { signal: controller.signal });
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const reader = response.body!.getReader();
    let text = '';
    while (!text.includes('event: started')) text += new TextDecoder().decode((await reader.read()).value);
    expect(parseSSE(text).events.map((e) => e.event)).toEqual(['queued', 'started']);
    expect(countOpenStreams(tracker)).toBe(1);
    controller.abort();
    await until(() => countOpenStreams(tracker) === 0, 10_000, 'the stream to close');
    run.done.resolve(1);
    expect((await tracker.wait(job.id)).status).toBe('completed');
  });
});

describe('toNodeHandler with SSE responses', () => {
  it('writes SSE natively, keeping the headers a wrapping handler added, each once', async () => {
    const control = controlledPlugin();
    const tracker = new JobTracker({ plugins: new LocalPluginManager().register(control.plugin) });
    const routes = createJobRoutes(tracker);
    const server = await startServer(
      toNodeHandler(async (request) => {
        const response = await routes(request);
        response?.headers.set('Access-Control-Allow-Origin', '*');
        return response;
      }),
    );
    try {
      const job = await tracker.submit('controlled', {});
      (await control.started(job.id)).done.resolve('ok');
      await tracker.wait(job.id);
      const raw = await new Promise<string>((resolve, reject) => {
        const req = httpRequest(`${server.url}/jobs/${job.id}/events`, (res) => {
          let text = `${res.rawHeaders.join('\n')}\n\n`;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => (text += chunk));
          res.on('end', () => resolve(text));
        });
        req.on('error', reject);
        req.end();
      });
      const headerLines = raw.slice(0, raw.indexOf('\n\n')).toLowerCase().split('\n');
      expect(headerLines.filter((line) => line === 'content-type')).toHaveLength(1);
      expect(headerLines).toContain('access-control-allow-origin');
      expect(parseSSE(raw.slice(raw.indexOf('\n\n') + 2)).events.map((e) => e.event)).toEqual(['queued', 'started', 'completed']);
    } finally {
      await tracker.close();
      await server.close();
    }
  });
});
