import type { JobGapEvent, JobOutputEvent, JobSnapshot, JobStatusEvent } from '../job.js';
import type { JobPage } from '../tracker/types.js';

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
 * Plugin name → plugin definition type, as the server declares it: a type alias, `typeof` a record
 * of plugins, or an interface. As a constraint, `P extends PluginMap<P>` (each of `P`'s own keys
 * names a plugin) takes an interface too, which has no index signature; `PluginMap` alone is the
 * map of any plugin name.
 * @example
 * ```ts
 * export type AppPlugins = { transcribe: typeof transcribe; resize: typeof resize };
 * // or: export interface AppPlugins { transcribe: typeof transcribe; resize: typeof resize }
 * ```
 */
export type PluginMap<P = { readonly [name: string]: PluginLike }> = { readonly [K in keyof P]: PluginLike };

/** The default {@link PluginMap}: any plugin name, `unknown` input and result. */
export type AnyPlugins = PluginMap;

/** The plugin names of a {@link PluginMap}. */
export type PluginName<P extends PluginMap<P>> = Extract<keyof P, string>;

type SchemaOutput<S> = S extends { readonly _zod: { readonly output: infer O } } ? O : unknown;

/** What JSON has no form for: left out of an object, `null` in an array, nothing at the top. */
type NotJson = undefined | void | symbol | ((...args: never) => unknown);

/** An array item as JSON has it: `null` for what it has no form for. */
type JsonItem<T> = T extends NotJson ? null : JsonForm<T>;

/** Flattens an intersection of object types into one. */
type Flat<T> = { [K in keyof T]: T[K] };

/**
 * An object as JSON has it: symbol keys and values JSON has no form for are left out; a key whose
 * value may be one of them (or `undefined`) is optional.
 */
type JsonObject<T> = Flat<
  { [K in keyof T as K extends symbol ? never : [Extract<T[K], NotJson>] extends [never] ? K : never]: JsonForm<T[K]> } & {
    [K in keyof T as K extends symbol ? never : [Extract<T[K], NotJson>] extends [never] ? never : [Exclude<T[K], NotJson>] extends [never] ? never : K]?: JsonForm<Exclude<T[K], NotJson>>;
  }
>;

/**
 * The type of a value after a trip through JSON (`JSON.parse(JSON.stringify(value))`): what the
 * client receives of a job's input and result. A `Date` (any object with `toJSON`) is what its
 * `toJSON` returns, a string; functions, symbols and `undefined` are left out of objects and are
 * `null` in arrays; a `bigint` cannot be sent (`never`); a `Map` or `Set` is an empty object.
 * @example
 * ```ts
 * type Sent = JsonForm<{ at: Date; note: string | undefined; format(): string }>; // { at: string; note?: string }
 * ```
 */
export type JsonForm<T> = 0 extends 1 & T
  ? any
  : T extends { toJSON(...args: never): infer R }
    ? JsonForm<R>
    : T extends string | number | boolean | null
      ? T
      : T extends NotJson
        ? undefined
        : T extends bigint
          ? never
          : T extends ReadonlyMap<unknown, unknown> | ReadonlySet<unknown>
            ? Record<string, never>
            : T extends readonly unknown[]
              ? { [I in keyof T]: JsonItem<T[I]> }
              : T extends object
                ? JsonObject<T>
                : T;

/** What a client sends as the input of plugin `K` (its input schema's input type). */
export type PluginInputOf<P extends PluginMap<P>, K extends PluginName<P>> = P[K]['input']['_zod']['input'];

/**
 * The input of plugin `K` as a job holds it and the client receives it: parsed by its input schema
 * (defaults filled in), in its {@link JsonForm} (a `z.coerce.date()` is a string).
 */
export type PluginParsedInputOf<P extends PluginMap<P>, K extends PluginName<P>> = K extends unknown ? JsonForm<P[K]['input']['_zod']['output']> : never;

/**
 * What a job of plugin `K` resolves with, as the client receives it ({@link JsonForm}: a `Date` is
 * a string): its `output` schema's type when it has one, else what its `run` returns (as the
 * server's `PluginOutput`). A union of names gives the union of their results.
 */
export type PluginOutputOf<P extends PluginMap<P>, K extends PluginName<P>> = K extends unknown
  ? JsonForm<unknown extends SchemaOutput<NonNullable<P[K]['output']>> ? Awaited<ReturnType<P[K]['run']>> : SchemaOutput<NonNullable<P[K]['output']>>>
  : never;

/**
 * A job's snapshot with its plugin, input and result typed from the server's plugins. It is a
 * {@link JobSnapshot} (assignable to one).
 */
export interface TypedJob<P extends PluginMap<P> = AnyPlugins, K extends PluginName<P> = PluginName<P>> extends Omit<JobSnapshot, 'plugin' | 'input' | 'result'> {
  /** Name of the plugin that runs it. */
  plugin: K;
  /** The input after validation by the plugin's schema. */
  input: PluginParsedInputOf<P, K>;
  /** The plugin's result, once `completed`. */
  result?: PluginOutputOf<P, K>;
}

/** True for the {@link AnyPlugins} of an untyped client: any plugin name. */
type Untyped<P extends PluginMap<P>> = string extends PluginName<P> ? true : false;

/**
 * A job of any of the plugins of `P`: the union of each plugin's {@link TypedJob}, so checking
 * `job.plugin` narrows its `input` and `result`. A plain {@link JobSnapshot} for an untyped client.
 * @example
 * ```ts
 * const job = await client.get(id);
 * if (job?.plugin === 'transcribe' && job.status === 'completed') console.log(job.result?.text);
 * ```
 */
export type JobOf<P extends PluginMap<P> = AnyPlugins> = Untyped<P> extends true ? JobSnapshot : { [K in PluginName<P>]: TypedJob<P, K> }[PluginName<P>];

/** A status or progress event whose `job` is a {@link JobOf}: a `JobStatusEvent` for an untyped client. */
export type JobStatusEventOf<P extends PluginMap<P> = AnyPlugins> = Untyped<P> extends true ? JobStatusEvent : Flat<Omit<JobStatusEvent, 'job'> & { job: JobOf<P> }>;

/** An event of a job's log with its snapshot a {@link JobOf}: a `JobEvent` for an untyped client. */
export type JobEventOf<P extends PluginMap<P> = AnyPlugins> = JobStatusEventOf<P> | JobOutputEvent | JobGapEvent;

/** A page of `client.list` with its jobs {@link JobOf}: a `JobPage` for an untyped client. */
export type JobPageOf<P extends PluginMap<P> = AnyPlugins> = Untyped<P> extends true ? JobPage : Flat<Omit<JobPage, 'jobs'> & { jobs: JobOf<P>[] }>;
