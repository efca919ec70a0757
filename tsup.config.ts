import { defineConfig } from 'tsup';

/** One entry per public subpath; test/package/exports.test.ts checks this against package.json "exports". */
export const entries = {
  index: 'src/index.ts',
  'testing/index': 'src/testing/index.ts',
  'backend/index': 'src/backend/index.ts',
  'sse/index': 'src/sse/index.ts',
  'http/index': 'src/http/index.ts',
  'bullmq/index': 'src/bullmq/index.ts',
  'metrics/index': 'src/metrics/index.ts',
  'otel/index': 'src/otel/index.ts',
  'client/index': 'src/client/index.ts',
  'react/index': 'src/react/index.ts',
  'dashboard/index': 'src/dashboard/index.ts',
  // Worker entries for isolated plugins: loaded by the thread pool and forked processes, not imported by users.
  'worker/thread': 'src/isolation/thread-worker.ts',
  'worker/process': 'src/isolation/process-worker.ts',
} as const;

export default defineConfig({
  entry: entries,
  format: ['esm', 'cjs'],
  dts: true,
  clean: true,
  // Maps for stack traces (node --enable-source-maps) without the sources inlined: they were two thirds of the tarball.
  sourcemap: true,
  esbuildOptions(options) {
    options.sourcesContent = false;
  },
  target: 'node20',
  splitting: true,
  treeshake: true,
  removeNodeProtocol: false,
  // import.meta.url in the CJS build (the isolation code resolves its worker entries from it).
  shims: true,
});
