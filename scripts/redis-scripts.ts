/**
 * Writes src/bullmq/redis-scripts.ts from the Lua files in src/bullmq/lua: one exported string
 * per script, so that the scripts reach every way the code runs (the ESM and CJS builds, vitest,
 * tsx) without a loader and without files to find at runtime. test/bullmq/redis-scripts.test.ts
 * fails when the module is older than the Lua files.
 *
 * Run: npx tsx scripts/redis-scripts.ts
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Where the Lua files are, and the module written from them. */
export const LUA_DIR = join(root, 'src/bullmq/lua');
export const SCRIPTS_MODULE = join(root, 'src/bullmq/redis-scripts.ts');

/** The module's text for the Lua files as they are now. */
export function scriptsModule(): string {
  const files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua')).sort();
  const exports = files.map((file) => {
    const lua = readFileSync(join(LUA_DIR, file), 'utf8');
    const name = basename(file, '.lua').toUpperCase().replaceAll('-', '_');
    // The doc line: the header's first sentence.
    const paragraph = (/^--\[\[\s*\n([\s\S]*?)\n\s*\n/.exec(lua)?.[1] ?? '').replace(/\s+/g, ' ').trim();
    const summary = /^.*?\.(?= |$)/.exec(paragraph)?.[0] ?? 'A Lua script of the Redis job store.';
    return `/** ${summary.replaceAll('*/', '* /')} See src/bullmq/lua/${file}. */\nexport const ${name} = ${JSON.stringify(lua)};\n`;
  });
  return [
    '// Written by scripts/redis-scripts.ts from src/bullmq/lua/*.lua: edit those, then run `npx tsx scripts/redis-scripts.ts`.',
    '// Each script says at its top which KEYS and ARGV it takes; it touches no key it is not given.',
    '',
    ...exports,
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(SCRIPTS_MODULE, scriptsModule());
  console.log(`wrote ${SCRIPTS_MODULE}`);
}
