/**
 * 9. The size of `jobwire/client` as a browser loads it — dist/client/browser.js, the
 * minified ES module with eventsource-parser inside (`npm run build` makes it) — gzipped, against
 * its budget of 6 kB.
 */
import { readFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { report, round, target } from './lib.js';

/** The budget of the browser client, min+gzip, in bytes (1 kB = 1,000 bytes). */
const BUDGET_BYTES = 6_000;

const file = new URL('../dist/client/browser.js', import.meta.url);
const source = await readFile(file).catch((error: unknown) => {
  throw new Error(`no ${file.pathname}: run npm run build first`, { cause: error });
});
const gzipBytes = gzipSync(source, { level: 9 }).byteLength;
const kB = (bytes: number): string => `${round(bytes / 1_000, 2)} kB`;
report({
  name: 'client-size',
  line: `jobwire/client in a browser (dist/client/browser.js): ${kB(gzipBytes)} min+gzip, ${kB(source.byteLength)} minified (≤ ${kB(BUDGET_BYTES)} min+gzip: ${target(gzipBytes <= BUDGET_BYTES)})`,
  figures: { minifiedBytes: source.byteLength, gzipBytes, budgetBytes: BUDGET_BYTES, withinBudget: gzipBytes <= BUDGET_BYTES },
});
