import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

/**
 * The package as users get it: `npm pack` of the build (`npm test` builds first), installed into
 * scratch apps with npm, then type-checked with a strict tsconfig and run with plain Node.
 */
const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const scratch = resolve(root, '.package-check'); // git-ignored
const bin = (name: string): string => resolve(root, 'node_modules/.bin', name);
const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as { version: string; devDependencies: Record<string, string> };

/** The lowest zod jobwire supports (its peer range is ^4.0.0), and a later minor. */
const ZOD_VERSIONS = ['4.0.0', '4.1.13'];

let tarball: string;

/** `npm install` in `dir`, offline when the cache allows; npm's stderr (its warnings). */
async function npmInstall(dir: string, args: string[]): Promise<string> {
  const { stderr } = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...args], { cwd: dir });
  return stderr;
}

/** A fresh app folder with a package.json of its own (`type: module`), so npm installs into it. */
async function newApp(dir: string): Promise<string> {
  await mkdir(dir, { recursive: true });
  await writeFile(resolve(dir, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
  return dir;
}

beforeAll(async () => {
  await rm(scratch, { recursive: true, force: true });
  await mkdir(scratch, { recursive: true });
  // --ignore-scripts: pack the build as it is, without `prepack` rebuilding dist/ under the other tests.
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', scratch], { cwd: root });
  const [info] = JSON.parse(stdout) as [{ filename: string }];
  tarball = resolve(scratch, info.filename);
}, 60_000);
afterAll(() => rm(scratch, { recursive: true, force: true }));

describe('the packed package', () => {
  it('has correct types for every entry and resolution mode (attw, node10 included through typesVersions)', async () => {
    const result = await run(bin('attw'), [tarball, '--format', 'ascii', '--exclude-entrypoints', 'client/browser'], { cwd: root }).catch((error: { stdout: string; code: number }) => error);
    expect('code' in result ? result.stdout : '').toBe('');
  }, 60_000);

  it('types the browser build of the client (an ES module: import only)', async () => {
    const result = await run(bin('attw'), [tarball, '--format', 'ascii', '--entrypoints', 'client/browser', '--profile', 'esm-only'], { cwd: root }).catch((error: { stdout: string; code: number }) => error);
    expect('code' in result ? result.stdout : '').toBe('');
  }, 60_000);

  it('ships source maps without the sources inlined', () => {
    const maps = readdirSync(resolve(root, 'dist'), { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(0);
    for (const file of maps) expect(JSON.parse(readFileSync(resolve(root, 'dist', file), 'utf8')), file).not.toHaveProperty('sourcesContent');
  });
});

describe.sequential('an app on zod 4 (one copy of zod, the app’s own)', () => {
  const app = resolve(scratch, 'app');

  beforeAll(async () => {
    await newApp(app);
    await writeFile(resolve(app, 'tsconfig.json'), JSON.stringify({
      compilerOptions: {
        target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', types: ['node'], outDir: 'out', skipLibCheck: true,
        strict: true, noUncheckedIndexedAccess: true, exactOptionalPropertyTypes: true, noImplicitOverride: true, noImplicitReturns: true,
      },
      files: ['plugin.ts'],
    }));
    await writeFile(resolve(app, 'plugin.ts'), PLUGIN_TS);
    await writeFile(resolve(app, 'plugin.cjs'), PLUGIN_CJS);
  });

  it.each(ZOD_VERSIONS)('zod %s: installs without a script or a nested zod, type-checks strictly and runs (ESM and CJS)', async (version) => {
    const warnings = await npmInstall(app, [tarball, `zod@${version}`]);
    expect(warnings).not.toMatch(/install-scripts\s+jobwire@/);
    expect(JSON.parse(readFileSync(resolve(app, 'node_modules/zod/package.json'), 'utf8'))).toMatchObject({ version });
    expect(existsSync(resolve(app, 'node_modules/jobwire/node_modules/zod'))).toBe(false);

    await run(bin('tsc'), ['-p', app]).catch((error: { stdout: string }) => expect.fail(`tsc:\n${error.stdout}`));
    const esm = await run(process.execPath, ['out/plugin.js'], { cwd: app });
    expect(JSON.parse(esm.stdout)).toEqual({ status: 'completed', result: { text: 'HI?' }, count: 2, zod: version });
    const cjs = await run(process.execPath, ['plugin.cjs'], { cwd: app });
    expect(cjs.stdout.trim()).toBe('6');
  }, 180_000);

  it('zod 3: npm warns of the peer, and registering a plugin says jobwire needs zod 4', async () => {
    // An explicit zod@3 overrides the peer with a warning: jobwire then loads the app's zod 3.
    expect(await npmInstall(app, ['zod@3'])).toMatch(/ERESOLVE overriding peer dependency[\s\S]*peer zod@"\^4\.0\.0" from jobwire/);
    await writeFile(resolve(app, 'zod3.mjs'), ZOD3_MJS);
    const { stdout } = await run(process.execPath, ['zod3.mjs'], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({ code: 'INVALID_CONFIG', message: expect.stringContaining('is a zod 3 schema: jobwire needs zod 4 (npm install zod@^4') });
  }, 180_000);
});

describe('an app without the optional peers', () => {
  // Outside the repository: Node resolves packages up the folder tree, and the repository's own
  // node_modules holds every optional peer as a devDependency.
  let app: string;
  beforeAll(async () => {
    app = await newApp(await mkdtemp(resolve(tmpdir(), 'jobwire-peers-')));
    await npmInstall(app, [tarball, `zod@${pkg.devDependencies.zod!.replace(/^\^/, '')}`]);
  }, 180_000);
  afterAll(() => rm(app, { recursive: true, force: true }));

  it.each(['mjs', 'cjs'])('jobwire/otel and jobwire/metrics load, and their first call says what to install (%s)', async (extension) => {
    await writeFile(resolve(app, `peers.${extension}`), extension === 'mjs' ? PEERS_MJS : PEERS_CJS);
    const { stdout } = await run(process.execPath, [`peers.${extension}`], { cwd: app });
    expect(JSON.parse(stdout)).toEqual({
      resolvable: { '@opentelemetry/api': false, 'prom-client': false },
      otel: { code: 'INVALID_CONFIG', message: 'jobwire/otel needs the optional peer dependencies: npm install @opentelemetry/api (could not load `@opentelemetry/api`)' },
      metrics: { code: 'INVALID_CONFIG', message: 'jobwire/metrics needs the optional peer dependencies: npm install prom-client (could not load `prom-client`)' },
    });
  }, 60_000);
});

/** A strict TypeScript app file: a typed plugin, a tracker, runPlugin's inferred result. */
const PLUGIN_TS = `import { createRequire } from 'node:module';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, type PluginOutput } from 'jobwire';
import { runPlugin } from 'jobwire/testing';

const shout = definePlugin({
  name: 'shout',
  input: z.object({ text: z.string().min(1) }),
  config: z.object({ suffix: z.string().default('!') }),
  output: z.object({ text: z.string() }),
  async run(input, ctx) {
    ctx.progress(50, 'shouting');
    return { text: input.text.toUpperCase() + ctx.config.suffix };
  },
});
const count = definePlugin({ name: 'count', input: z.object({ words: z.array(z.string()) }), run: (input) => ({ count: input.words.length }) });

const typed: PluginOutput<typeof shout> = { text: 'typed' };
void typed;
const tracker = new JobTracker({ plugins: new LocalPluginManager().register(shout, { suffix: '?' }).register(count) });
const job = await tracker.submit(shout, { text: 'hi' });
const done = await tracker.wait(job.id);
const { result } = await runPlugin(count, { words: ['a', 'b'] });
const words: number = result.count;
const zod = (createRequire(import.meta.resolve('jobwire'))('zod/package.json') as { version: string }).version;
console.log(JSON.stringify({ status: done.status, result: done.result, count: words, zod }));
await tracker.close();
`;

const PLUGIN_CJS = `const { z } = require('zod');
const { definePlugin, LocalPluginManager } = require('jobwire');
const double = definePlugin({ name: 'double', input: z.object({ n: z.number() }), run: (input) => input.n * 2 });
const plugins = new LocalPluginManager().register(double);
plugins.execute('double', plugins.validateInput('double', { n: 3 }), { jobId: 'j', signal: new AbortController().signal, progress() {}, log() {}, job: { metadata: {} } })
  .then((result) => console.log(result));
`;

const ZOD3_MJS = `import { z } from 'zod';
import { definePlugin, LocalPluginManager } from 'jobwire';
try {
  new LocalPluginManager().register(definePlugin({ name: 'old', input: z.object({ text: z.string() }), run: () => null }));
  console.log(JSON.stringify({ accepted: true }));
} catch (error) {
  console.log(JSON.stringify({ code: error.code, message: error.message }));
}
`;

const PEERS_BODY = `const tracker = new JobTracker({ plugins: new LocalPluginManager() });
const outcome = async (fn) => {
  try {
    await fn();
    return 'no error';
  } catch (error) {
    return { code: error.code, message: error.message };
  }
};
const resolvable = {};
for (const name of ['@opentelemetry/api', 'prom-client']) {
  try {
    resolveFrom(name);
    resolvable[name] = true;
  } catch {
    resolvable[name] = false;
  }
}
const otel = await outcome(() => traceJobs(tracker));
const metrics = await outcome(() => collectMetrics(tracker, { registry: { registerMetric() {} } }));
console.log(JSON.stringify({ resolvable, otel, metrics }));
await tracker.close();
`;

const PEERS_MJS = `import { createRequire } from 'node:module';
import { JobTracker, LocalPluginManager } from 'jobwire';
import { collectMetrics } from 'jobwire/metrics';
import { traceJobs } from 'jobwire/otel';
const resolveFrom = (name) => createRequire(import.meta.resolve('jobwire')).resolve(name);
${PEERS_BODY}`;

const PEERS_CJS = `const { JobTracker, LocalPluginManager } = require('jobwire');
const { collectMetrics } = require('jobwire/metrics');
const { traceJobs } = require('jobwire/otel');
const resolveFrom = (name) => require('node:module').createRequire(require.resolve('jobwire')).resolve(name);
(async () => {
${PEERS_BODY}})();
`;
