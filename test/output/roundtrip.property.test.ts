import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setImmediate as tick } from 'node:timers/promises';
import { getRequestListener } from '@hono/node-server';
import { createParser, type EventSourceMessage } from 'eventsource-parser';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type JobOutput, type JobOutputEvent } from '../../src/index.js';
import { createJobRoutes, toNodeHandler } from '../../src/http/index.js';

/**
 * Any output a plugin writes — strings with CR, LF, CRLF, NUL, lone surrogates, U+2028, a BOM, text
 * that looks like SSE fields, and JSON values — reaches a client exactly: over a real HTTP server's
 * SSE (both writers: node's `writeSSE` through `toNodeHandler`, and the web `Response` through
 * @hono/node-server), parsed by eventsource-parser, and through `GET /jobs/:id/output`.
 */

/** One job's script: the chunks to write, and after which of them to yield a tick (so they land in several appends). */
interface Script {
  chunks: unknown[];
  pauses: boolean[];
}

const scripts = new Map<string, Script>();

const writer = definePlugin({
  name: 'writer',
  input: z.object({ script: z.string() }),
  async run(input, ctx) {
    const { chunks, pauses } = scripts.get(input.script)!;
    for (const [i, chunk] of chunks.entries()) {
      ctx.write(chunk);
      if (pauses[i]) await tick();
    }
    return null;
  },
});

/** Lone surrogates, line breaks, NUL and other characters that break naive encoders. */
const awkward = fc.oneof(
  fc.constantFrom('\r', '\n', '\r\n', '\n\r', '\0', '\u2028', '\u2029', '\uFEFF', '\uFFFF', '\u{10FFFF}', '😀', 'data: x', 'event: end\n\n', 'id: 1\r', ':', '\\', '"'),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((unit) => String.fromCharCode(unit)), // a lone surrogate
);
const text = fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 12 }), awkward), { maxLength: 8 }).map((parts) => parts.join(''));
/** A chunk: mostly text; sometimes a JSON value (as any reader across processes gets it back: through JSON). */
const chunk = fc.oneof(
  { weight: 4, arbitrary: text },
  { weight: 1, arbitrary: fc.record({ start: fc.nat(), text }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.parse(JSON.stringify(value)) as unknown) },
);
const script = fc
  .array(chunk, { minLength: 1, maxLength: 40 })
  .chain((chunks) => fc.record({ chunks: fc.constant(chunks), pauses: fc.array(fc.boolean(), { minLength: chunks.length, maxLength: chunks.length }) }));

/** Adjacent strings joined: what a reader gets when it lags (the engine merges adjacent string chunks for it). */
function joinStrings(chunks: readonly unknown[]): unknown[] {
  const joined: unknown[] = [];
  for (const value of chunks) {
    const last = joined.length - 1;
    if (typeof value === 'string' && typeof joined[last] === 'string') joined[last] = (joined[last] as string) + value;
    else joined.push(value);
  }
  return joined;
}

/** Read an SSE response to its end with eventsource-parser. */
async function readSSE(response: Response): Promise<EventSourceMessage[]> {
  const events: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (event) => events.push(event) });
  const decoder = new TextDecoder();
  const reader = response.body!.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) parser.feed(decoder.decode(read.value, { stream: true }));
  parser.feed(decoder.decode());
  return events;
}

describe('output round-trips through SSE and GET /jobs/:id/output', () => {
  let tracker: JobTracker;
  let server: Server;
  let origin: string;

  beforeAll(async () => {
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(writer), concurrency: 4 });
    // One server for every run: /jobs through toNodeHandler (writeSSE), /web/jobs through @hono/node-server (a web Response).
    const node = toNodeHandler(createJobRoutes(tracker));
    const web = createJobRoutes(tracker, { basePath: '/web/jobs', pluginsPath: '/web/plugins', resultsPath: '/web/results', schedulesPath: '/web/schedules' });
    const webListener = getRequestListener(async (request) => (await web(request)) ?? new Response(null, { status: 404 }));
    server = createServer((req, res) => void (req.url?.startsWith('/web/') ? webListener(req, res) : node(req, res)));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await tracker.close({ timeoutMs: 0 });
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('property: every chunk, in order, exactly once; strings exact to the code unit', { timeout: 60_000 }, async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(script, fc.boolean(), fc.nat(), async (written, viaWeb, cut) => {
        const key = `script-${runs++}`;
        scripts.set(key, written);
        const base = viaWeb ? `${origin}/web/jobs` : `${origin}/jobs`;
        const job = await tracker.submit('writer', { script: key });
        // Follow it live (from the first event) while the plugin writes.
        const live = await readSSE(await fetch(`${base}/${job.id}/events`));
        const outputEvents = live.filter((event) => event.event === 'output');
        expect(live.map((event) => event.event)).toEqual(['queued', 'started', ...outputEvents.map(() => 'output'), 'completed']);
        const events = outputEvents.map((event) => JSON.parse(event.data) as JobOutputEvent);
        expect(outputEvents.map((event) => Number(event.id))).toEqual(events.map((event) => event.seq));
        // Strictly increasing seqs: nothing twice; a merged string event carries the seq of its last chunk.
        expect(events.every((event, i) => i === 0 || event.seq > events[i - 1]!.seq)).toBe(true);
        expect(joinStrings(events.map((event) => event.chunk))).toEqual(joinStrings(written.chunks));
        expect(events.at(-1)!.seq).toBe(written.chunks.length + 2);

        // GET /jobs/:id/output: the chunks as written, unmerged.
        const response = await fetch(`${base}/${job.id}/output`);
        expect(response.status).toBe(200);
        expect((await response.json()) as JobOutput).toEqual({ chunks: written.chunks, gap: false, lastSeq: written.chunks.length + 2 });

        // A reconnect resumes after any seq with exactly the rest (chunk i has seq i + 3).
        const after = 2 + (cut % (written.chunks.length + 1));
        const resumed = await readSSE(await fetch(`${base}/${job.id}/events`, { headers: { 'last-event-id': String(after) } }));
        const rest = resumed.filter((event) => event.event === 'output').map((event) => (JSON.parse(event.data) as JobOutputEvent).chunk);
        expect(joinStrings(rest)).toEqual(joinStrings(written.chunks.slice(after - 2)));
        expect(resumed.at(-1)?.event).toBe('completed');
        scripts.delete(key);
        await tracker.remove(job.id);
      }),
      { numRuns: 60 },
    );
  });
});
