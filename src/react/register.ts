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

/** The `plugins` of a {@link Register}: a type alias or an interface; `AnyPlugins` without one. */
export type PluginsOfRegister<R> = R extends { plugins: infer P } ? (P extends PluginMap<P> ? P : AnyPlugins) : AnyPlugins;

/** The plugins of {@link Register}, or `AnyPlugins` (any name, `unknown` input) when the app registered none. */
export type RegisteredPlugins = PluginsOfRegister<Register>;
