import { defineConfig } from 'tsup';

/**
 * The browser builds, made after the Node build (`npm run build`): one minified ES module each, with
 * everything it imports inside it. `client/browser` is the `jobwire/client/browser` export (a page
 * without a bundler imports it); `dashboard/app` is the dashboard's page script, served by
 * `createDashboard`. test/package/exports.test.ts checks these against package.json "exports".
 */
export const browserEntries = {
  'client/browser': 'src/client/index.ts',
  'dashboard/app': 'src/dashboard/app/main.ts',
} as const;

export default defineConfig({
  entry: browserEntries,
  format: ['esm'],
  platform: 'browser',
  target: 'es2022',
  minify: true,
  dts: false,
  clean: false,
  sourcemap: false,
  splitting: false,
  treeshake: true,
  noExternal: [/.*/],
  outExtension: () => ({ js: '.js' }),
});
