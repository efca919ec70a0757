import { execFile } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The complete backend of docs/backends.md, as a user outside this repository has it: the package
 * is packed, unpacked into a scratch app's node_modules, and the doc's two blocks are type-checked
 * strictly against the packed types and run — the conformance suite included — with nothing of
 * the sources in between.
 */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scratch = resolve(root, '.backend-example');

async function block(heading: string): Promise<string> {
  const text = await readFile(resolve(root, 'docs/backends.md'), 'utf8');
  const at = text.indexOf(heading);
  if (at < 0) throw new Error(`no "${heading}" in docs/backends.md`);
  const match = /```ts\n([\s\S]*?)```/.exec(text.slice(at));
  if (!match?.[1]) throw new Error(`no ts block after "${heading}"`);
  return match[1];
}

describe('docs/backends.md, against the packed package', () => {
  beforeAll(async () => {
    await rm(scratch, { recursive: true, force: true });
    await mkdir(resolve(scratch, 'node_modules/jobwire'), { recursive: true });
    // `npm test` has built dist/; pack exactly what would be published.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: root });
    const [{ filename }] = JSON.parse(stdout) as [{ filename: string }];
    await run('tar', ['-xzf', resolve(scratch, filename), '-C', resolve(scratch, 'node_modules/jobwire'), '--strip-components=1']);
    await writeFile(resolve(scratch, 'package.json'), JSON.stringify({ name: 'backend-example', private: true, type: 'module' }));
    await writeFile(resolve(scratch, 'map-backend.ts'), await block('## A complete backend'));
    await writeFile(resolve(scratch, 'map-backend.test.ts'), await block('## Checking it'));
  }, 120_000);

  afterAll(() => rm(scratch, { recursive: true, force: true }));

  it('type-checks in a strict app against the packed types', async () => {
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noImplicitOverride: true,
        noUnusedLocals: true,
        noEmit: true,
        types: ['node'],
      },
      files: ['map-backend.ts', 'map-backend.test.ts'],
    };
    await writeFile(resolve(scratch, 'tsconfig.json'), JSON.stringify(tsconfig));
    const tsc = resolve(root, 'node_modules/.bin/tsc');
    await expect(run(tsc, ['-p', resolve(scratch, 'tsconfig.json')], { cwd: scratch })).resolves.toBeDefined();
  }, 120_000);

  it('passes the shipped conformance suite', async () => {
    await writeFile(resolve(scratch, 'vitest.config.mjs'), 'export default { test: { include: ["*.test.ts"] } };\n');
    const vitest = resolve(root, 'node_modules/.bin/vitest');
    const { stdout } = await run(vitest, ['run', '--root', scratch, '--config', 'vitest.config.mjs', '--reporter=json'], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    const report = JSON.parse(stdout.slice(stdout.indexOf('{'))) as { numPassedTests: number; numFailedTests: number; numTotalTests: number };
    expect(report.numFailedTests).toBe(0);
    expect(report.numPassedTests).toBe(report.numTotalTests);
    expect(report.numPassedTests).toBeGreaterThanOrEqual(35);
  }, 300_000);
});
