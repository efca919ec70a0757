import type { AnyPlugins, PluginMap } from '../client/index.js';

/**
 * Declare your server's plugins here once, and `useSubmit` (and `useJobClient`) are typed from them
 * everywhere in the app, without a type argument at each call.
 *
 * @example
 * ```ts
 * // jobwire.d.ts (or any module of the app)
 * import type { transcribe } from './server/plugins.js';
 * declare module 'jobwire/react' {
 *   interface Register {
 *     plugins: { transcribe: typeof transcribe };
 *   }
 * }
 * ```
 */
// Empty on purpose: the app's declaration merging fills it in.
export interface Register {}

/** The plugins of {@link Register}, or `AnyPlugins` (any name, `unknown` input) when the app registered none. */
export type RegisteredPlugins = Register extends { plugins: infer P extends PluginMap } ? P : AnyPlugins;
