import type { JobSnapshot } from '../job.js';

/**
 * The part of a zod 4 schema the client reads: its type markers (`_zod.input`, `_zod.output`).
 * Read structurally, so the client's declarations never import zod.
 */
export interface SchemaTypes {
  readonly _zod: { readonly input: unknown; readonly output: unknown };
}

/** What the client needs to know of a plugin definition (`typeof` a `definePlugin(…)` on the server). */
export interface PluginLike {
  readonly input: SchemaTypes;
  readonly output?: SchemaTypes | undefined;
  run(input: never, ctx: never): unknown;
}

/**
 * Plugin name → plugin definition type, as the server declares it. Use a type alias (or `typeof`
 * a record of plugins), not an interface, so it has the index signature this needs.
 * @example
 * ```ts
 * export type AppPlugins = { transcribe: typeof transcribe; resize: typeof resize };
 * ```
 */
export type PluginMap = { readonly [name: string]: PluginLike };

/** The default {@link PluginMap}: any plugin name, `unknown` input and result. */
export type AnyPlugins = PluginMap;

/** The plugin names of a {@link PluginMap}. */
export type PluginName<P extends PluginMap> = Extract<keyof P, string>;

type SchemaOutput<S> = S extends { readonly _zod: { readonly output: infer O } } ? O : unknown;

/** What a client sends as the input of plugin `K` (its input schema's input type). */
export type PluginInputOf<P extends PluginMap, K extends PluginName<P>> = P[K]['input']['_zod']['input'];

/** The input of plugin `K` as a job holds it: parsed by its input schema (defaults filled in). */
export type PluginParsedInputOf<P extends PluginMap, K extends PluginName<P>> = K extends unknown ? P[K]['input']['_zod']['output'] : never;

/**
 * What a job of plugin `K` resolves with: its `output` schema's type when it has one, else what its
 * `run` returns (as the server's `PluginOutput`). A union of names gives the union of their results.
 */
export type PluginOutputOf<P extends PluginMap, K extends PluginName<P>> = K extends unknown
  ? unknown extends SchemaOutput<NonNullable<P[K]['output']>>
    ? Awaited<ReturnType<P[K]['run']>>
    : SchemaOutput<NonNullable<P[K]['output']>>
  : never;

/**
 * A job's snapshot with its plugin, input and result typed from the server's plugins. It is a
 * {@link JobSnapshot} (assignable to one).
 */
export interface TypedJob<P extends PluginMap = AnyPlugins, K extends PluginName<P> = PluginName<P>> extends Omit<JobSnapshot, 'plugin' | 'input' | 'result'> {
  /** Name of the plugin that runs it. */
  plugin: K;
  /** The input after validation by the plugin's schema. */
  input: PluginParsedInputOf<P, K>;
  /** The plugin's result, once `completed`. */
  result?: PluginOutputOf<P, K>;
}
