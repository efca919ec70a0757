/**
 * @module jobwire/testing — test plugins alone (`runPlugin`), code built on a tracker without real
 * plugins (`MockPluginManager`), and your own backend, plugin manager or result storage against the
 * conformance suites every built-in one passes (`testJobBackend`, `testPluginManager`,
 * `testResultStorage`; these need vitest, an optional peer dependency, and are awaited).
 */
export { MockPluginManager } from './mock-plugin-manager.js';
export type { MockCall, MockProgressStep, MockScript } from './mock-plugin-manager.js';
export { runPlugin } from './run-plugin.js';
export type { ProgressRecord, RunPluginOptions, RunPluginResult } from './run-plugin.js';
export { createFixturePlugins, sampleStoredResult, testJobBackend, testPluginManager, testResultStorage } from './conformance/index.js';
export type { BackendFixture, FixturePlugins, PluginManagerFixture, StorageFixture, TrackerSettings } from './conformance/index.js';
