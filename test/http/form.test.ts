import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type JobSnapshot } from '../../src/index.js';
import { createJobRoutes, type AuthorizeContext, type HttpErrorBody, type JobRoutesOptions } from '../../src/http/index.js';

const ORIGIN = 'http://jobs.test';

const render = definePlugin({
  name: 'render',
  input: z.object({
    title: z.string(),
    count: z.number().int().min(1).default(1),
    ratio: z.number().optional(),
    loud: z.boolean().default(false),
    code: z.string().optional(), // digits that must stay text
    size: z.object({ width: z.number().int(), label: z.string().optional() }).optional(),
    tags: z.array(z.string()).default([]),
    scores: z.array(z.number()).optional(),
    maybe: z.number().nullable().optional(),
  }),
  run: async (input) => input,
});
const defaults = definePlugin({ name: 'defaults', input: z.object({ n: z.number().default(7) }), run: async (input) => input });

const URLENCODED = 'application/x-www-form-urlencoded';

describe('POST /jobs from an HTML form', () => {
  let tracker: JobTracker;
  let routes: (request: Request) => Promise<Response | undefined>;

  function setup(options: JobRoutesOptions = {}): void {
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(render).register(defaults) });
    routes = createJobRoutes(tracker, options);
  }
  beforeEach(() => setup());
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  async function post(body: BodyInit, contentType?: string): Promise<Response> {
    const init: RequestInit & { duplex?: 'half' } = { method: 'POST', body, duplex: 'half' };
    if (contentType) init.headers = { 'content-type': contentType };
    return (await routes(new Request(`${ORIGIN}/jobs`, init)))!;
  }

  const form = (fields: [string, string][]): string => new URLSearchParams(fields).toString();

  async function submitted(response: Response): Promise<JobSnapshot> {
    expect(response.status, await response.clone().text()).toBe(202);
    return (await response.json()) as JobSnapshot;
  }

  async function errorOf(response: Response, status: number): Promise<HttpErrorBody['error']> {
    expect(response.status).toBe(status);
    return ((await response.json()) as HttpErrorBody).error;
  }

  it('urlencoded: input.<name> fields, nested by dots and coerced by the input schema; options as fields', async () => {
    const response = await post(
      form([
        ['plugin', 'render'],
        ['input.title', 'Report 2024'],
        ['input.count', '3'],
        ['input.ratio', '-1.5e1'],
        ['input.loud', 'false'], // a hidden field before the checkbox…
        ['input.loud', 'on'], // …and the checked box: the last one counts
        ['input.code', '007'],
        ['input.size.width', '640'],
        ['input.size.label', 'wide'],
        ['input.tags', 'a'],
        ['input.tags', 'b'],
        ['input.scores', '1'],
        ['input.scores', ''],
        ['input.scores', '2.5'],
        ['input.maybe', '4'],
        ['priority', '5'],
        ['timeoutMs', '60000'],
        ['metadata', '{"from":"form"}'],
        ['tenantId', 'acme'],
        ['workspaceId', ''], // an empty option field is not given
      ]),
      URLENCODED,
    );
    const job = await submitted(response);
    const input = { title: 'Report 2024', count: 3, ratio: -15, loud: true, code: '007', size: { width: 640, label: 'wide' }, tags: ['a', 'b'], scores: [1, 2.5], maybe: 4 };
    expect(job).toMatchObject({ plugin: 'render', input, priority: 5, metadata: { from: 'form' }, tenantId: 'acme' });
    expect(job).not.toHaveProperty('workspaceId');
    expect((await tracker.wait(job.id)).result).toEqual(input);
  });

  it('empty number and boolean fields are left out, so the defaults apply; a lone plugin field is an empty input', async () => {
    const job = await submitted(await post(form([['plugin', 'render'], ['input.title', ''], ['input.count', ''], ['input.loud', '']]), URLENCODED));
    expect(job.input).toEqual({ title: '', count: 1, loud: false, tags: [] });
    const bare = await submitted(await post(form([['plugin', 'defaults']]), URLENCODED));
    expect(bare.input).toEqual({ n: 7 });
  });

  it('`input` as JSON text; `+` and percent-escapes decode as UTF-8', async () => {
    const job = await submitted(await post(`plugin=render&input=${encodeURIComponent('{"title":"ünï cødé ✓","count":2}')}&tenantId=a+b`, URLENCODED));
    expect(job).toMatchObject({ input: { title: 'ünï cødé ✓', count: 2 }, tenantId: 'a b' });
  });

  it('text that does not fit the schema stays text: the plugin input check reports it (422) at its path', async () => {
    const error = await errorOf(await post(form([['plugin', 'render'], ['input.title', 't'], ['input.count', 'many']]), URLENCODED), 422);
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.details).toEqual(expect.arrayContaining([expect.objectContaining({ path: ['count'] })]));
    const hex = await errorOf(await post(form([['plugin', 'render'], ['input.title', 't'], ['input.count', '0x10']]), URLENCODED), 422);
    expect(hex.code).toBe('INVALID_INPUT');
  });

  it('multipart/form-data: the same fields, as a browser sends them', async () => {
    const data = new FormData();
    data.append('plugin', 'render');
    data.append('input.title', 'multi\r\nline');
    data.append('input.count', '2');
    data.append('input.size.width', '10');
    data.append('priority', '-1');
    const job = await submitted((await routes(new Request(`${ORIGIN}/jobs`, { method: 'POST', body: data })))!);
    expect(job).toMatchObject({ input: { title: 'multi\r\nline', count: 2, size: { width: 10 } }, priority: -1 });
  });

  it('bad form data is 400 INVALID_REQUEST and stores nothing', async () => {
    const bad: [string, string][][] = [
      [['plugin', 'render'], ['sort', 'asc']], // unknown field
      [['plugin', 'render'], ['plugin', 'render']], // repeated
      [['plugin', 'render'], ['input', '{not json']],
      [['plugin', 'render'], ['input', '{}'], ['input.title', 'x']], // both forms of input
      [['plugin', 'render'], ['input.title', 'x'], ['priority', 'high']],
      [['plugin', 'render'], ['input.title', 'x'], ['timeoutMs', '1e400']],
      [['plugin', 'render'], ['input.title', 'x'], ['metadata', 'from=form']],
      [['plugin', 'render'], ['input.title', 'x'], ['metadata', '[1]']],
      [['plugin', 'render'], ['input.__proto__.polluted', 'x']],
      [['plugin', 'render'], ['input.constructor.prototype.polluted', 'x']],
      [['plugin', 'render'], ['input.', 'x']],
      [['plugin', 'render'], ['input.size..width', '1']],
      [['plugin', 'render'], ['input.size', 'x'], ['input.size.width', '1']], // a value and an object
      [['plugin', 'render'], ['input.size.width', '1'], ['input.size', 'x']],
      [['input.title', 'x']], // no plugin
    ];
    for (const fields of bad) expect((await errorOf(await post(form(fields), URLENCODED), 400)).code, form(fields)).toBe('INVALID_REQUEST');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    const withFile = new FormData();
    withFile.append('plugin', 'render');
    withFile.append('input.title', new Blob(['file contents']), 'title.txt');
    expect((await errorOf((await routes(new Request(`${ORIGIN}/jobs`, { method: 'POST', body: withFile })))!, 400)).message).toMatch(/file/);
    expect((await errorOf(await post('--nope\r\n\r\n', 'multipart/form-data; boundary=x'), 400)).code).toBe('INVALID_REQUEST');
    expect((await tracker.list()).jobs).toEqual([]);
  });

  it('JSON sent as a form (curl -d without a Content-Type) is told to set Content-Type: application/json', async () => {
    const json = JSON.stringify({ plugin: 'render', input: { title: 'x' } });
    const error = await errorOf(await post(json, URLENCODED), 400);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringContaining('Content-Type: application/json') });
    expect((await tracker.list()).jobs).toEqual([]);
  });

  it('authorize sees a form as the same body a JSON submit has', async () => {
    const seen: AuthorizeContext[] = [];
    setup({ authorize: (context) => void seen.push(context) });
    await submitted(await post(form([['plugin', 'render'], ['input.title', 'x'], ['input.count', '2'], ['tenantId', 't']]), URLENCODED));
    expect(seen[0]!.body).toEqual({ plugin: 'render', input: { title: 'x', count: 2 }, tenantId: 't' });
  });

  it('the body limit holds for forms too, by Content-Length and by counting streamed bytes', async () => {
    setup({ maxBodyBytes: 200 });
    const big = form([['plugin', 'render'], ['input.title', 'x'.repeat(300)]]);
    expect((await errorOf(await post(big, URLENCODED), 413)).code).toBe('PAYLOAD_TOO_LARGE');
    const chunks = [form([['plugin', 'render']]), '&input.title=', 'y'.repeat(150), 'y'.repeat(150)];
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        const next = chunks[pulled++];
        if (next === undefined) controller.close();
        else controller.enqueue(new TextEncoder().encode(next));
      },
    });
    expect((await errorOf(await post(stream, URLENCODED), 413)).code).toBe('PAYLOAD_TOO_LARGE');
    expect(pulled).toBeLessThan(chunks.length + 1); // cut off before the end
    const data = new FormData();
    data.append('plugin', 'render');
    data.append('input.title', 'z'.repeat(300));
    expect((await errorOf((await routes(new Request(`${ORIGIN}/jobs`, { method: 'POST', body: data })))!, 413)).code).toBe('PAYLOAD_TOO_LARGE');
    expect((await tracker.list()).jobs).toEqual([]);
  });
});
