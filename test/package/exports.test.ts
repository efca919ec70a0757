import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { resolve } from 'node:path';
import { publint } from 'publint';
import { describe, expect, it } from 'vitest';
import { entries } from '../../tsup.config.js';

/** These tests read the build (`npm test` builds first). */
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { import: { types: string; default: string }; require: { types: string; default: string } }>;
  dependencies: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

const subpathOf = (entry: string) => (entry === 'index' ? '.' : `./${entry.replace(/\/index$/, '')}`);

describe('package exports', () => {
  it('every tsup entry is exported and every export is a tsup entry', () => {
    const fromEntries = Object.keys(entries).map(subpathOf).sort();
    const fromExports = Object.keys(pkg.exports).filter((key) => key !== './package.json').sort();
    expect(fromExports).toEqual(fromEntries);
    for (const entry of Object.keys(entries)) {
      const target = pkg.exports[subpathOf(entry)];
      expect(target).toEqual({
        import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
        require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
      });
    }
  });

  it('every exported file is built', () => {
    for (const target of Object.values(pkg.exports)) {
      if (typeof target === 'string') continue;
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect(existsSync(resolve(root, file)), file).toBe(true);
      }
    }
  });

  it('loads by its own name through ESM import and CJS require', async () => {
    const esm = (await import('jobwire')) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)('jobwire') as Record<string, unknown>;
    for (const name of ['JobTracker', 'LocalPluginManager', 'definePlugin', 'JobwireError', 'MemoryResultStorage', 'FileResultStorage']) {
      expect(typeof esm[name], name).toBe('function');
      expect(typeof cjs[name], name).toBe('function');
    }
    const require = createRequire(import.meta.url);
    const subpaths: Record<string, string[]> = {
      'jobwire/testing': ['MockPluginManager', 'runPlugin', 'testJobBackend', 'testPluginManager', 'testResultStorage'],
      'jobwire/backend': ['eventOf', 'snapshotOf', 'loggedEvent', 'parseLoggedEvent', 'idempotencyScope', 'jobCounts', 'isoTime', 'encodeCursor', 'decodeCursor', 'canTransition'],
      'jobwire/sse': ['openJobStream', 'toSSEResponse', 'writeSSE', 'encodeSSE', 'encodeSSEComment', 'countOpenStreams'],
      'jobwire/http': ['createJobRoutes', 'toNodeHandler', 'errorResponse'],
      'jobwire/bullmq': ['BullMQBackend'],
      'jobwire/metrics': ['collectMetrics'],
      'jobwire/otel': ['traceJobs'],
    };
    for (const [subpath, names] of Object.entries(subpaths)) {
      const viaImport = (await import(subpath)) as Record<string, unknown>;
      const viaRequire = require(subpath) as Record<string, unknown>;
      for (const name of names) {
        expect(typeof viaImport[name], `${subpath} ${name}`).toBe('function');
        expect(typeof viaRequire[name], `${subpath} ${name} (require)`).toBe('function');
      }
    }
  });

  it('the subpath entries load no framework, and their optional peers only where they belong', () => {
    // What each entry may import besides node builtins and the package's own dependencies.
    const peers: Record<string, string[]> = { sse: [], http: [], bullmq: [], metrics: [], otel: ['@opentelemetry/api'], backend: [], testing: ['zod'] };
    for (const [entry, allowed] of Object.entries(peers)) {
      for (const file of [`dist/${entry}/index.js`, `dist/${entry}/index.cjs`]) {
        const source = readFileSync(resolve(root, file), 'utf8');
        const specifiers = [...source.matchAll(/(?:from\s+|require\()\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
        for (const specifier of specifiers) {
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          expect(isBuiltin(specifier) || Object.keys(pkg.dependencies).includes(name) || allowed.includes(name), `${file} imports ${specifier}`).toBe(true);
        }
      }
    }
  });

  it('the worker entries resolve by the package name and import no optional peer', () => {
    const require = createRequire(import.meta.url);
    for (const kind of ['thread', 'process']) {
      expect(require.resolve(`jobwire/worker/${kind}`)).toBe(resolve(root, `dist/worker/${kind}.cjs`));
      for (const file of [`dist/worker/${kind}.js`, `dist/worker/${kind}.cjs`]) {
        const source = readFileSync(resolve(root, file), 'utf8');
        const specifiers = [...source.matchAll(/(?:from\s+|require\()\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
        for (const specifier of specifiers) expect(isBuiltin(specifier), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });

  it('the core entry loads the thread pool only when a thread-isolated plugin first runs', () => {
    const chunks = readdirSync(resolve(root, 'dist')).filter((name) => /^chunk-.*\.(c?js)$/.test(name)).map((name) => `dist/${name}`);
    for (const file of ['dist/index.js', 'dist/index.cjs', ...chunks]) {
      const source = readFileSync(resolve(root, file), 'utf8');
      expect(source, file).not.toMatch(/(?:from\s+|require\()\s*["']tinypool["']/);
    }
  });

  it('the core entry imports nothing but its own dependencies and node builtins', () => {
    const allowed = new Set(Object.keys(pkg.dependencies));
    const chunks = readdirSync(resolve(root, 'dist')).filter((name) => /^chunk-.*\.(c?js)$/.test(name)).map((name) => `dist/${name}`);
    for (const file of ['dist/index.js', 'dist/index.cjs', ...chunks]) {
      const source = readFileSync(resolve(root, file), 'utf8');
      const specifiers = [...source.matchAll(/(?:from\s+|require\()\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
      for (const specifier of specifiers) {
        const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
        expect(isBuiltin(specifier) || allowed.has(name), `${file} imports ${specifier}`).toBe(true);
      }
    }
  });

  it('publint finds nothing to fix', async () => {
    const { messages } = await publint({ pkgDir: root, strict: true });
    expect(messages).toEqual([]);
  });
});
