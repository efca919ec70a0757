/** @module jobwire/testing — test plugins alone, and code built on a tracker without real plugins. */
export { MockPluginManager } from './mock-plugin-manager.js';
export type { MockCall, MockProgressStep, MockScript } from './mock-plugin-manager.js';
export { runPlugin } from './run-plugin.js';
export type { ProgressRecord, RunPluginOptions, RunPluginResult } from './run-plugin.js';
