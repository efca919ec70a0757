import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../src/index.js';
import { parseSSE } from '../helpers/sse.js';
import { startExample } from '../helpers/example-process.js';

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

describe('docs run as written', () => {
  beforeAll(() => mkdir(scratch, { recursive: true }));
  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('README quick start prints what the README says', async () => {
    const file = resolve(scratch, 'readme-quick-start.ts');
    await writeFile(file, await codeBlock('README.md', '## Quick start'));
    const { stdout } = await run(tsx, [file], { cwd: root });
    expect(stdout.trim().split('\n')).toEqual(['1 queued 0', '2 started 0', '3 progress 50', '4 completed 100', "{ text: 'HELLO' }"]);
  });

  it('the vitest example in docs/testing.md passes', async () => {
    const file = resolve(scratch, 'word-count.test.ts');
    await writeFile(file, await codeBlock('docs/testing.md', 'A complete vitest file'));
    expect(await runVitest(scratch)).toMatchObject({ numPassedTests: 4, numFailedTests: 0 });
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
