import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/** The docs' code runs as written: each block is extracted, written inside the repo and run. */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scratch = resolve(root, '.docs-check');
const tsx = resolve(root, 'node_modules/.bin/tsx');

async function codeBlock(file: string, heading: string): Promise<string> {
  const text = await readFile(resolve(root, file), 'utf8');
  const section = text.slice(text.indexOf(heading));
  const match = /```ts\n([\s\S]*?)```/.exec(section);
  if (!match?.[1]) throw new Error(`no ts block after "${heading}" in ${file}`);
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
    const config = resolve(scratch, 'vitest.config.mjs');
    await writeFile(config, 'export default { test: { include: ["*.test.ts"] } };\n');
    const vitest = resolve(root, 'node_modules/.bin/vitest');
    const { stdout } = await run(vitest, ['run', '--root', scratch, '--config', config, '--reporter=json'], { cwd: root });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { numPassedTests: number; numFailedTests: number };
    expect(report).toMatchObject({ numPassedTests: 4, numFailedTests: 0 });
  });

  it('npm start (examples/quickstart.ts) shows live progress, a cancel and stored results', async () => {
    const { stdout } = await run(tsx, [resolve(root, 'examples/quickstart.ts')], { cwd: root });
    expect(stdout).toMatch(/interview\.wav\s+running\s+\[#+\.*\]\s+50% chunk 5\/10/);
    expect(stdout).toMatch(/meeting\.m4a\s+cancelled .* not needed any more/);
    expect(stdout).toMatch(/stored: interview\.wav → \{"text":"\(transcript of interview\.wav\)","chunks":10\}/);
    expect(stdout).toContain('"completed":2');
  });
});
