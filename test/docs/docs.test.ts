import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../src/index.js';
import { parseSSE } from '../helpers/sse.js';
import { startExample } from '../helpers/example-process.js';
import { codeBlocks, markdownFiles, type CodeBlock } from './code-blocks.js';
import { STRICT_REACT_APP, typeCheckBlocks, withContexts, type BlockError } from './type-check.js';

/** The docs' code runs as written: each block is extracted, written inside the repo and run. */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scratch = resolve(root, '.docs-check');
const tsx = resolve(root, 'node_modules/.bin/tsx');

/** Run vitest on the test files of `dir` (as a user would); its JSON report's counts. */
async function runVitest(dir: string): Promise<{ numPassedTests: number; numFailedTests: number }> {
  const config = resolve(dir, 'vitest.config.mjs');
  await writeFile(config, 'export default { test: { include: ["*.test.ts"] } };\n');
  const vitest = resolve(root, 'node_modules/.bin/vitest');
  const { stdout } = await run(vitest, ['run', '--root', dir, '--config', config, '--reporter=json'], { cwd: root });
  return JSON.parse(stdout.slice(stdout.indexOf('{'))) as { numPassedTests: number; numFailedTests: number };
}

async function codeBlock(file: string, heading: string, language = 'ts'): Promise<string> {
  const text = await readFile(resolve(root, file), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`no "${heading}" in ${file}`);
  const match = new RegExp(`\`\`\`${language}\\n([\\s\\S]*?)\`\`\``).exec(text.slice(at));
  if (!match?.[1]) throw new Error(`no ${language} block after "${heading}" in ${file}`);
  return match[1];
}

beforeAll(() => mkdir(scratch, { recursive: true }));
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('docs run as written', () => {
  it('README quick start prints what the README says', async () => {
    const file = resolve(scratch, 'readme-quick-start.ts');
    await writeFile(file, await codeBlock('README.md', '## Quick start'));
    const { stdout } = await run(tsx, [file], { cwd: root });
    expect(stdout.trim().split('\n')).toEqual(['1 queued 0', '2 started 0', '3 progress 50', '4 completed 100', "{ text: 'HELLO' }"]);
  });

  it('the complete retry example in docs/retries.md prints what its comments say', async () => {
    const block = await codeBlock('docs/retries.md', '### A complete example');
    const file = resolve(scratch, 'retries.ts');
    await writeFile(file, block);
    const { stdout } = await run(tsx, [file], { cwd: root });
    // The comments after each console.log are the lines it prints, in order.
    const expected = [...block.matchAll(/^\/\/ (.+)$/gm)].map((match) => match[1]!);
    expect(expected.length).toBe(5);
    expect(stdout.trim().split('\n')).toEqual(expected);
  });

  it('the complete example in docs/output.md prints what its comments say', async () => {
    const block = await codeBlock('docs/output.md', '### A complete example');
    const file = resolve(scratch, 'output.ts');
    await writeFile(file, block);
    const { stdout } = await run(tsx, [file], { cwd: root });
    // The `// → …` lines after each console.log are what it prints, in order.
    const expected = [...block.matchAll(/^\/\/ → (.+)$/gm)].map((match) => match[1]!);
    expect(expected.length).toBe(8);
    expect(stdout.trim().split('\n')).toEqual(expected);
  });

  it('the vitest example in docs/testing.md passes', async () => {
    const file = resolve(scratch, 'word-count.test.ts');
    await writeFile(file, await codeBlock('docs/testing.md', 'A complete vitest file'));
    expect(await runVitest(scratch)).toMatchObject({ numPassedTests: 4, numFailedTests: 0 });
  });

  it('the MockPluginManager example in docs/testing.md is a vitest file that passes', async () => {
    const dir = resolve(scratch, 'mock');
    await mkdir(dir, { recursive: true });
    await writeFile(resolve(dir, 'transcribe-flow.test.ts'), await codeBlock('docs/testing.md', '## MockPluginManager'));
    expect(await runVitest(dir)).toMatchObject({ numPassedTests: 1, numFailedTests: 0 });
  });

  it('the isolated plugin test in docs/plugins.md passes, in a real worker thread', async () => {
    const dir = resolve(scratch, 'isolated');
    await mkdir(dir, { recursive: true });
    await writeFile(resolve(dir, 'slow-hash.test.ts'), await codeBlock('docs/plugins.md', 'To test it across the boundary'));
    await writeFile(resolve(dir, 'slow-hash.mjs'), await codeBlock('docs/plugins.md', 'is stopped hard when it ignores a cancel', 'js'));
    expect(await runVitest(dir)).toMatchObject({ numPassedTests: 2, numFailedTests: 0 });
  });

  it('npm run quickstart (examples/quickstart.ts) shows live progress, a cancel and stored results', async () => {
    const { stdout } = await run(tsx, [resolve(root, 'examples/quickstart.ts')], { cwd: root });
    expect(stdout).toMatch(/interview\.wav\s+running\s+\[#+\.*\]\s+50% chunk 5\/10/);
    expect(stdout).toMatch(/meeting\.m4a\s+cancelled .* not needed any more/);
    expect(stdout).toMatch(/stored: interview\.wav → \{"text":"\(transcript of interview\.wav\)","chunks":10\}/);
    expect(stdout).toContain('"completed":2');
  });

  it.each(['hono', 'express', 'fastify', 'node-http'])('the complete server in docs/%s.md runs, takes a job and streams it', async (name) => {
    const file = resolve(scratch, `${name}-server.ts`);
    await writeFile(file, await codeBlock(`docs/${name}.md`, '## A complete server'));
    const server = await startExample(file);
    try {
      expect(await (await fetch(`${server.url}/`)).text()).toBe('your own routes stay yours');
      const created = await fetch(`${server.url}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"countdown","input":{"from":3}}' });
      expect(created.status).toBe(202);
      const job = (await created.json()) as JobSnapshot;
      const { events } = parseSSE(await (await fetch(`${server.url}/jobs/${job.id}/events`)).text());
      const types = events.map((e) => e.event);
      expect(types.slice(0, 2)).toEqual(['queued', 'started']);
      expect(types.at(-1)).toBe('completed');
      expect(types.slice(2, -1).every((type) => type === 'progress') && types.length > 3).toBe(true);
      expect(JSON.parse(events.at(-1)!.data)).toMatchObject({ job: { result: { done: true } } });
      expect((await fetch(`${server.url}/jobs/${job.id}/events`, { headers: { 'last-event-id': events.at(-1)!.id! } })).status).toBe(204);
    } finally {
      expect(await server.stop()).toBe(0);
    }
  });
});

describe('every ts block of README.md and docs/*.md compiles in a strict TypeScript app', () => {
  const blocks = markdownFiles().flatMap((file) => codeBlocks(file));
  const contexts = new Map<string, CodeBlock>();
  for (const block of blocks) {
    if (block.defines === undefined) continue;
    if (contexts.has(block.defines)) throw new Error(`${block.file}:${block.line}: context "${block.defines}" is defined twice`);
    contexts.set(block.defines, block);
  }
  let errors: Map<CodeBlock, BlockError[]>;
  beforeAll(() => {
    const jsFiles = blocks.filter((block) => block.language === 'js' && block.fileName !== undefined);
    errors = typeCheckBlocks(blocks.filter((block) => block.language === 'ts'), contexts, resolve(scratch, 'types'), jsFiles);
  }, 120_000);

  it('the contexts live in docs/README.md, where a reader finds them', () => {
    expect([...contexts.values()].filter((block) => block.file !== 'docs/README.md')).toEqual([]);
    expect([...contexts.keys()].sort()).toEqual(['bun', 'deno', 'express', 'fastify', 'hono', 'job', 'tracker', 'transcribe']);
  });

  for (const file of markdownFiles()) {
    it(file, () => {
      const found = blocks.filter((block) => block.file === file && block.language === 'ts').flatMap((block) => errors.get(block)!);
      expect(found).toEqual([]);
    });
  }
});

describe('every tsx block of docs/*.md compiles in a strict React app', () => {
  const files = markdownFiles().filter((file) => codeBlocks(file).some((block) => block.language === 'tsx'));
  // A doc's tsx blocks import its `// @file` ts blocks (the web app's own modules), so those are checked beside them.
  const blocks = files.flatMap((file) => codeBlocks(file).filter((block) => block.language === 'tsx' || (block.language === 'ts' && block.fileName !== undefined)));
  const contexts = new Map(markdownFiles().flatMap((file) => codeBlocks(file)).flatMap((block) => (block.defines === undefined ? [] : [[block.defines, block] as const])));
  let errors: Map<CodeBlock, BlockError[]>;
  beforeAll(() => {
    errors = typeCheckBlocks(blocks, contexts, resolve(scratch, 'tsx'), [], STRICT_REACT_APP);
  }, 120_000);

  it('docs/client.md has React code to check', () => {
    expect(files).toContain('docs/client.md');
    expect(blocks.filter((block) => block.language === 'tsx').length).toBeGreaterThanOrEqual(3);
  });

  for (const file of files) {
    it(file, () => {
      expect(blocks.filter((block) => block.file === file).flatMap((block) => errors.get(block)!)).toEqual([]);
    });
  }
});

describe('install lines', () => {
  const packageOf = (specifier: string): string => specifier.split('/').slice(0, specifier.startsWith('@') ? 2 : 1).join('/');
  /** Whether a package brings its own type declarations (or needs `@types/<name>`). */
  const hasOwnTypes = (name: string): boolean => {
    const manifest = name === 'jobwire' ? resolve(root, 'package.json') : resolve(root, 'node_modules', name, 'package.json');
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { types?: string; typings?: string; exports?: unknown };
    return pkg.types !== undefined || pkg.typings !== undefined || JSON.stringify(pkg.exports ?? {}).includes('"types"') || existsSync(resolve(dirname(manifest), 'index.d.ts'));
  };
  const withInstall = markdownFiles().filter((file) => /npm install (?:-D )?[a-z@]/.test(readFileSync(resolve(root, file), 'utf8')));

  it.each(withInstall)('%s installs every package its code imports, with @types for packages without types', (file) => {
    const installed = new Set([...readFileSync(resolve(root, file), 'utf8').matchAll(/npm install ((?:-D )?[^`\n#]+)/g)].flatMap((m) => m[1]!.trim().split(/\s+/)).filter((word) => !word.startsWith('-')));
    const imported = new Set(
      codeBlocks(file)
        .filter((block) => block.language === 'ts')
        .flatMap((block) => [...block.code.matchAll(/^import .*?from '([^']+)'/gm)].map((m) => m[1]!))
        .filter((specifier) => !isBuiltin(specifier))
        .map(packageOf),
    );
    const needed = [...imported].flatMap((name) => (hasOwnTypes(name) ? [name] : [name, `@types/${name}`]));
    expect(needed.filter((name) => !installed.has(name))).toEqual([]);
  });
});

describe('docs/hono.md: the Next.js route handler', () => {
  it('serves every route from the folder its comment names, /plugins included', async () => {
    const block = codeBlocks('docs/hono.md').find((candidate) => candidate.code.includes('Next.js app router'));
    const folder = /app(\/\S*?)\/\[\[?\.\.\.\w+\]\]?\/route\.ts/.exec(block?.code ?? '')?.[1];
    expect(folder, 'a comment naming app/<folder>/[...path]/route.ts').toBeDefined();
    const contexts = new Map(codeBlocks('docs/README.md').flatMap((context) => (context.defines === undefined ? [] : [[context.defines, context] as const])));
    const file = resolve(scratch, 'next-route.ts');
    await writeFile(file, withContexts(block!, contexts).map((part) => part.code).join(''));
    const route = (await import(pathToFileURL(file).href)) as Record<'GET' | 'POST', (request: Request) => Promise<Response>>;

    const plugins = await route.GET(new Request(`http://localhost${folder}/plugins`));
    expect(plugins.status).toBe(200);
    expect(await plugins.json()).toMatchObject({ plugins: [{ name: 'transcribe' }] });
    const created = await route.POST(new Request(`http://localhost${folder}/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"plugin":"transcribe","input":{"audio":"a.wav"}}' }));
    expect(created.status).toBe(202);
    const job = (await created.json()) as JobSnapshot;
    expect(created.headers.get('location')).toBe(`${folder}/jobs/${job.id}`);
    expect((await route.GET(new Request(`http://localhost${folder}/jobs/${job.id}`))).status).toBe(200);
  });
});

describe('docs/http.md: the htmx form route', () => {
  it('answers a form post with a fragment whose stream sends, after the ending, the event it closes on', async () => {
    const block = codeBlocks('docs/http.md').find((candidate) => candidate.language === 'ts' && candidate.code.includes('hx-request'));
    expect(block, 'the hono block that answers htmx with a fragment').toBeDefined();
    const contexts = new Map(codeBlocks('docs/README.md').flatMap((context) => (context.defines === undefined ? [] : [[context.defines, context] as const])));
    const file = resolve(scratch, 'htmx-route.ts');
    await writeFile(file, `${withContexts(block!, contexts).map((part) => part.code).join('')}\nexport { app, tracker };\n`);
    const { app, tracker } = (await import(pathToFileURL(file).href)) as { app: { request(input: string, init?: RequestInit): Promise<Response> }; tracker: { close(): Promise<void> } };

    const posted = await app.request('/jobs', { method: 'POST', headers: { 'hx-request': 'true', 'content-type': 'application/x-www-form-urlencoded' }, body: 'plugin=transcribe&input.audio=a.wav' });
    const html = await posted.text();
    expect(posted.status, html).toBe(200);
    const url = /sse-connect="([^"]+)"/.exec(html)?.[1];
    const closeOn = /sse-close="([^"]+)"/.exec(html)?.[1];
    const swapped = /sse-swap="([^"]+)"/.exec(html)?.[1]?.split(',') ?? [];
    expect(url).toMatch(/^\/jobs\/[^/]+\/events$/);
    expect(closeOn).toBeDefined();

    // The job ends at once, so the stream replays its events and closes; the page would close on `closeOn`.
    const { events } = parseSSE(await (await app.request(url!)).text());
    const names = events.map((event) => event.event);
    const ending = names.findIndex((name) => name === 'completed' || name === 'failed' || name === 'cancelled');
    expect(ending, `an ending among ${names.join(', ')}`).toBeGreaterThanOrEqual(0);
    expect(names.slice(ending + 1)).toEqual([closeOn]);
    expect(names.slice(0, ending + 1).every((name) => name !== undefined && swapped.includes(name))).toBe(true);
    expect(events[ending]!.data).toBe('completed 100%');
    await tracker.close();
  });
});
