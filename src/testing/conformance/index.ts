/** @module The conformance suites: the definition of a correct backend, plugin manager and result storage. */
export { testJobBackend } from './job-backend.js';
export type { BackendFixture, TrackerSettings } from './job-backend.js';
export { testPluginManager } from './plugin-manager.js';
export type { PluginManagerFixture } from './plugin-manager.js';
export { sampleStoredResult, testResultStorage } from './result-storage.js';
export type { StorageFixture } from './result-storage.js';
export { createFixturePlugins } from './fixture-plugins.js';
export type { FixturePlugins } from './fixture-plugins.js';
