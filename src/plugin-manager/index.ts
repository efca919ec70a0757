/** @module Plugins: define them, register them, and the contract a JobTracker runs them through. */
export { definePlugin, checkPlugin, PLUGIN_NAME_PATTERN } from './define-plugin.js';
export type { Plugin, PluginSpec, PluginInput, PluginOutput, PluginConfigInput } from './define-plugin.js';
export { LocalPluginManager } from './local-plugin-manager.js';
export type { LoadDirectoryOptions, LoadDirectoryResult, PluginLoadFailure, RegisterOptions } from './local-plugin-manager.js';
export { DEFAULT_CANCEL_GRACE_MS, ISOLATION_MODES } from '../isolation/options.js';
export type { IsolationLimits, IsolationMode, IsolationOptions, StderrSource, StderrTarget } from '../isolation/options.js';
export type { ExecuteContext, JobContextInfo, JsonSchema, PluginContext, PluginFilter, PluginManager, PluginMeta } from './types.js';
export type { ValidationIssue } from './zod-issues.js';
