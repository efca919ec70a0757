import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type * as Client from '../../src/client/index.js';
import { startJobServer } from './server.js';

/** The built `jobwire/client` (these tests read dist/: `npm test` builds first). */
const root = resolve(import.meta.dirname, '../..');
const run = promisify(execFile);

/** Every module specifier of a JS or d.ts source: static imports and re-exports, `import()`, `require()` (not in comments). */
function specifiers(source: string): string[] {
  return [...source.replace(/\/\*[\s\S]*?\*\//g, '').matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^import\s+)["']([^"']+)["']/gm)].map((match) => match[1]!);
}

/** The files `entry` loads, itself included, following relative specifiers; and the bare ones met. */
function closure(entry: string): { files: string[]; packages: string[] } {
  const files: string[] = [];
  const packages = new Set<string>();
  const visit = (file: string): void => {
    if (files.includes(file)) return;
    files.push(file);
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) packages.add(specifier);
      else visit(resolve(dirname(file), specifier.replace(/\.c?js$/, (ext) => (file.endsWith('.d.ts') ? '.d.ts' : file.endsWith('.d.cts') ? '.d.cts' : ext))));
    }
  };
  visit(resolve(root, entry));
  return { files, packages: [...packages].sort() };
}

describe('the built jobwire/client', () => {
  it('its declarations, and every declaration file they import, never import zod', () => {
    for (const entry of ['dist/client/index.d.ts', 'dist/client/index.d.cts']) {
      const { files, packages } = closure(entry);
      expect(files.length, entry).toBeGreaterThan(1);
      expect(packages, entry).toEqual([]);
      for (const file of files) expect(readFileSync(file, 'utf8'), file).not.toMatch(/["']zod["']/);
    }
  });

  it('its Node builds load eventsource-parser and nothing of node:, zod or the server', () => {
    for (const entry of ['dist/client/index.js', 'dist/client/index.cjs']) {
      const { files, packages } = closure(entry);
      expect(packages, entry).toEqual(['eventsource-parser']);
      expect(files.filter((file) => /node:|zod|tinypool|eventemitter3|p-queue/.test(specifiers(readFileSync(file, 'utf8')).join(' ')))).toEqual([]);
    }
  });

  it('the browser build is one module that imports nothing, within 6 kB min+gzip', () => {
    const source = readFileSync(resolve(root, 'dist/client/browser.js'));
    expect(specifiers(source.toString('utf8')).filter((specifier) => !isBuiltin(specifier) || specifier.startsWith('node:'))).toEqual([]);
    expect(gzipSync(source, { level: 9 }).byteLength).toBeLessThanOrEqual(6_000);
  });

  it('the browser build works as it is: it follows a job to its end', async () => {
    const server = await startJobServer();
    try {
      const { createJobClient, isJobwireError } = (await import(pathToFileURL(resolve(root, 'dist/client/browser.js')).href)) as typeof Client;
      const client = createJobClient({ baseUrl: server.url });
      const job = await client.submit('controlled', { note: 'browser build' });
      const types: string[] = [];
      for await (const event of client.follow(job.id)) {
        types.push(event.type);
        if (event.type === 'started') (await server.control.started(job.id)).done.resolve('done');
      }
      expect(types).toEqual(['queued', 'started', 'completed']);
      expect(await client.wait(job.id)).toMatchObject({ status: 'completed', result: 'done' });
      const error = await client.cancel('nope').catch((thrown: unknown) => thrown);
      expect(isJobwireError(error) && error.code).toBe('JOB_NOT_FOUND');
    } finally {
      await server.close();
    }
  });

  it('npm run bench measures it in one line, with its figures', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jobwire-client-size-'));
    try {
      const file = join(dir, 'figures.json');
      const { stdout } = await run(resolve(root, 'node_modules/.bin/tsx'), ['bench/run.ts', '--quick', '--only', 'client-size', '--json', file], { cwd: root });
      const lines = stdout.trim().split('\n').filter((line) => line.startsWith('- '));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^- jobwire\/client in a browser \(dist\/client\/browser\.js\): \d+\.\d+ kB min\+gzip, \d+(\.\d+)? kB minified \(≤ 6 kB min\+gzip: target met\)$/);
      const { results } = JSON.parse(await readFile(file, 'utf8')) as { results: { name: string; figures: Record<string, unknown> }[] };
      expect(results).toEqual([{ name: 'client-size', line: lines[0]!.slice(2), figures: { minifiedBytes: expect.any(Number), gzipBytes: expect.any(Number), budgetBytes: 6_000, withinBudget: true } }]);
      expect(results[0]!.figures.gzipBytes).toBe(gzipSync(readFileSync(resolve(root, 'dist/client/browser.js')), { level: 9 }).byteLength);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('is built', () => {
    for (const file of ['index.js', 'index.cjs', 'index.d.ts', 'index.d.cts', 'browser.js']) expect(existsSync(resolve(root, 'dist/client', file)), file).toBe(true);
  });
});
