import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import { resolve } from 'node:path';
import { publint } from 'publint';
import { describe, expect, it } from 'vitest';
import { browserEntries } from '../../tsup.browser.config.js';
import { entries } from '../../tsup.config.js';

/** These tests read the build (`npm test` builds first). */
const root = resolve(import.meta.dirname, '../..');
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { types: string; default: string } | { import: { types: string; default: string }; require: { types: string; default: string } }>;
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  typesVersions: Record<string, Record<string, string[]>>;
  scripts: Record<string, string>;
  repository?: unknown;
  homepage?: unknown;
  bugs?: unknown;
};
/** What every install has: the dependencies and the peers that are not optional (zod). */
const required = [...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies).filter((name) => pkg.peerDependenciesMeta[name]?.optional !== true)];

const subpathOf = (entry: string) => (entry === 'index' ? '.' : `./${entry.replace(/\/index$/, '')}`);

describe('package exports', () => {
  it('every tsup entry is exported and every export is a tsup entry', () => {
    const fromEntries = Object.keys(entries).map(subpathOf).sort();
    const fromExports = Object.keys(pkg.exports).filter((key) => key !== './package.json' && key !== './client/browser').sort();
    expect(fromExports).toEqual(fromEntries);
    for (const entry of Object.keys(entries)) {
      const target = pkg.exports[subpathOf(entry)];
      expect(target).toEqual({
        import: { types: `./dist/${entry}.d.ts`, default: `./dist/${entry}.js` },
        require: { types: `./dist/${entry}.d.cts`, default: `./dist/${entry}.cjs` },
      });
    }
  });

  it('the browser build of the client is exported as one file; the dashboard page script is not exported', () => {
    const files = Object.entries(pkg.exports).filter(([key, target]) => key !== './package.json' && !('import' in (target as object)));
    expect(files).toEqual([['./client/browser', { types: './dist/client/index.d.ts', default: './dist/client/browser.js' }]]);
    expect(Object.keys(browserEntries).sort()).toEqual(['client/browser', 'dashboard/app']);
    for (const entry of Object.keys(browserEntries)) expect(existsSync(resolve(root, `dist/${entry}.js`)), entry).toBe(true);
  });

  it('zod is a peer dependency (one copy, shared with the app), and no optional peer is required', () => {
    expect(pkg.dependencies).not.toHaveProperty('zod');
    expect(pkg.peerDependencies.zod).toBe('^4.0.0');
    expect(required.sort()).toEqual(['cron-parser', 'eventemitter3', 'eventsource-parser', 'p-queue', 'tinypool', 'zod']);
  });

  it('typesVersions gives node10 resolution the same declarations as the exports', () => {
    const mapped = Object.fromEntries(Object.keys(entries).filter((entry) => entry !== 'index').map((entry) => [subpathOf(entry).slice(2), [`./dist/${entry}.d.ts`]]));
    mapped['client/browser'] = ['./dist/client/index.d.ts']; // the browser build has the client's API
    expect(pkg.typesVersions).toEqual({ '*': mapped });
  });

  it('says where it lives: repository, homepage, bugs', () => {
    expect(pkg).toMatchObject({
      repository: { type: 'git', url: 'git+https://github.com/jobwire/jobwire.git' },
      homepage: 'https://github.com/jobwire/jobwire#readme',
      bugs: { url: 'https://github.com/jobwire/jobwire/issues' },
    });
  });

  it('runs nothing when installed, and every script that needs dist/ builds it first', () => {
    // npm runs these on a consumer's install (prepare: for git dependencies too).
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare']) expect(pkg.scripts, hook).not.toHaveProperty(hook);
    // The examples, benchmarks and type-checked tests import the package by its name, that is dist/.
    for (const script of ['start', 'quickstart', 'distributed', 'bench', 'typecheck', 'pack']) expect(pkg.scripts[`pre${script}`], script).toBe('npm run build');
    expect(pkg.scripts.pretest).toBe('npm run typecheck');
  });

  it('every exported file is built', () => {
    for (const target of Object.values(pkg.exports)) {
      if (typeof target === 'string' || !('import' in target)) continue;
      for (const file of [target.import.types, target.import.default, target.require.types, target.require.default]) {
        expect(existsSync(resolve(root, file)), file).toBe(true);
      }
    }
  });

  it('loads by its own name through ESM import and CJS require', async () => {
    const esm = (await import('jobwire')) as Record<string, unknown>;
    const cjs = createRequire(import.meta.url)('jobwire') as Record<string, unknown>;
    for (const name of ['JobTracker', 'LocalPluginManager', 'definePlugin', 'JobwireError', 'MemoryResultStorage', 'FileResultStorage', 'isStatusEvent']) {
      expect(typeof esm[name], name).toBe('function');
      expect(typeof cjs[name], name).toBe('function');
    }
    const require = createRequire(import.meta.url);
    const subpaths: Record<string, string[]> = {
      'jobwire/testing': ['MockPluginManager', 'runPlugin', 'testJobBackend', 'testPluginManager', 'testResultStorage'],
      'jobwire/backend': ['eventOf', 'snapshotOf', 'loggedEvent', 'parseLoggedEvent', 'idempotencyScope', 'jobCounts', 'isoTime', 'encodeCursor', 'decodeCursor', 'canTransition', 'outputEvent', 'gapEvent', 'outputEventsOf', 'outputBytes', 'outputBatchJson', 'parseOutputBatch'],
      'jobwire/sse': ['openJobStream', 'openJobsStream', 'toSSEResponse', 'writeSSE', 'encodeSSE', 'encodeSSEComment', 'countOpenStreams'],
      'jobwire/http': ['createJobRoutes', 'toNodeHandler', 'errorResponse'],
      'jobwire/bullmq': ['BullMQBackend'],
      'jobwire/metrics': ['collectMetrics'],
      'jobwire/otel': ['traceJobs'],
      'jobwire/client': ['createJobClient', 'JobwireError', 'isJobwireError', 'isStatusEvent'],
      'jobwire/react': ['JobClientProvider', 'useJob', 'useSubmit', 'useJobClient'],
      'jobwire/dashboard': ['createDashboard'],
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
    // None but zod (a required peer: testing's fixture plugins define zod schemas): an optional peer loads when first needed,
    // so a missing one is a clear INVALID_CONFIG, not an import failure.
    // jobwire/react imports react itself: its hooks are nothing without it.
    const peers: Record<string, string[]> = { sse: [], http: [], bullmq: [], metrics: [], otel: [], backend: [], testing: ['zod'], client: [], react: ['react'], dashboard: [] };
    for (const [entry, allowed] of Object.entries(peers)) {
      for (const file of [`dist/${entry}/index.js`, `dist/${entry}/index.cjs`]) {
        const source = readFileSync(resolve(root, file), 'utf8');
        const specifiers = [...source.matchAll(/(?:from\s+|require\()\s*["']([^"'./][^"']*)["']/g)].map((m) => m[1]!);
        for (const specifier of specifiers) {
          const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0]!;
          expect(isBuiltin(specifier) || required.includes(name) || allowed.includes(name), `${file} imports ${specifier}`).toBe(true);
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
    const allowed = new Set(required);
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
