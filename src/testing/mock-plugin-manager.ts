import type { z } from 'zod';
import { JobwireError } from '../errors.js';
import type { JobMetadata } from '../job.js';
import { toJsonSchema } from '../plugin-manager/json-schema.js';
import { unknownPluginError } from '../plugin-manager/unknown-plugin.js';
import type { ExecuteContext, PluginFilter, PluginManager, PluginMeta } from '../plugin-manager/types.js';
import { summarizeIssues, toValidationIssues } from '../plugin-manager/zod-issues.js';

/** One progress step of a script: a percent, or `[percent, message]`. */
export type MockProgressStep = number | readonly [number, string];

/** How a scripted plugin behaves. */
export interface MockScript {
  /** The result, or a function of the input (and the context, to write output) computing it. @default undefined */
  result?: unknown;
  /** Throw this instead of returning (anything: an Error, a string…). */
  error?: unknown;
  /** Wait this long before settling (fake timers welcome); an abort ends the wait early. @default 0 */
  delayMs?: number;
  /** Progress reported in order, spread evenly over `delayMs`. */
  progress?: readonly MockProgressStep[];
  /**
   * Chunks written with `ctx.write` in order, spread evenly over `delayMs` like `progress` (the
   * two lists interleave by time; a chunk due with a progress step is written first). For output
   * that depends on the input, write from a `result` function: it gets the context.
   * @example { delayMs: 300, output: ['Hello', ' world'], progress: [50, 100] }
   */
  output?: readonly unknown[];
  /** Validate input with this schema on submit (otherwise any input passes). */
  input?: z.ZodType;
  /** Meta fields to report (title, category, concurrency…). */
  meta?: Partial<Omit<PluginMeta, 'name' | 'enabled'>>;
  /** @default true */
  enabled?: boolean;
  /** Keep running after an abort (to test trackers against plugins that ignore their signal). @default false */
  ignoreAbort?: boolean;
}

/** A recorded `execute` call. */
export interface MockCall {
  name: string;
  input: unknown;
  jobId: string;
  /** The try it was (`ctx.attempt`). */
  attempt: number;
  job: { tenantId?: string | undefined; workspaceId?: string | undefined; metadata: JobMetadata };
  /** Whether the call's signal was aborted (read at the time the call settled). */
  aborted: boolean;
}

const EMPTY_SCHEMA = Object.freeze({ type: 'object', properties: {} });

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** One scripted call on the context, due at `at` (a fraction of `delayMs`). */
interface TimedStep {
  at: number;
  play(ctx: ExecuteContext): void;
}

/** A script's progress steps and output chunks, each list spread evenly over the delay, merged by time (output first on a tie). */
function timeline(script: MockScript): TimedStep[] {
  const output = script.output ?? [];
  const progress = script.progress ?? [];
  const steps: TimedStep[] = [
    ...output.map((chunk, i) => ({ at: (i + 1) / output.length, play: (ctx: ExecuteContext) => ctx.write(chunk) })),
    ...progress.map((step, i) => ({
      at: (i + 1) / progress.length,
      play: (ctx: ExecuteContext) => (typeof step === 'number' ? ctx.progress(step) : ctx.progress(step[0], step[1])),
    })),
  ];
  // A stable sort: the chunks, listed first, stay before progress due at the same time.
  return steps.sort((a, b) => a.at - b.at);
}

/**
 * A {@link PluginManager} whose plugins are scripts: fixed results, failures, delays and
 * progress and output per plugin name. It records every call. Use it to test code built on a JobTracker
 * without real plugins.
 *
 * @example
 * ```ts
 * const plugins = new MockPluginManager({ transcribe: { result: { text: 'hi' }, delayMs: 100, progress: [50], output: ['h', 'i'] } });
 * const tracker = new JobTracker({ plugins });
 * ```
 */
export class MockPluginManager implements PluginManager {
  readonly #scripts = new Map<string, MockScript>();
  /** Every `execute` call, in order. */
  readonly calls: MockCall[] = [];

  constructor(scripts: Record<string, MockScript> = {}) {
    for (const [name, script] of Object.entries(scripts)) this.script(name, script);
  }

  /** Add or replace the script for `name`. */
  script(name: string, script: MockScript): this {
    this.#scripts.set(name, script);
    return this;
  }

  /** The calls made to one plugin. */
  callsFor(name: string): MockCall[] {
    return this.calls.filter((call) => call.name === name);
  }

  has(name: string): boolean {
    return this.#scripts.has(name);
  }

  getMeta(name: string): PluginMeta | undefined {
    const script = this.#scripts.get(name);
    if (!script) return undefined;
    return {
      title: name,
      version: '0.0.0',
      configSchema: { ...EMPTY_SCHEMA },
      ...script.meta,
      inputSchema: script.input ? toJsonSchema(script.input) : (script.meta?.inputSchema ?? {}),
      name,
      enabled: script.enabled ?? true,
    };
  }

  list(filter: PluginFilter = {}): PluginMeta[] {
    return [...this.#scripts.keys()]
      .map((name) => this.getMeta(name) as PluginMeta)
      .filter((meta) => (filter.category === undefined || meta.category === filter.category) && (filter.enabled === undefined || meta.enabled === filter.enabled));
  }

  validateInput(name: string, input: unknown): unknown {
    const script = this.#scripts.get(name);
    if (!script) throw unknownPluginError(name, this.#scripts.keys());
    if (script.enabled === false) throw new JobwireError('PLUGIN_DISABLED', `Plugin "${name}" is disabled`);
    if (!script.input) return input;
    const parsed = script.input.safeParse(input);
    if (!parsed.success) {
      const issues = toValidationIssues(parsed.error);
      throw new JobwireError('INVALID_INPUT', `Invalid input for plugin "${name}": ${summarizeIssues(issues)}`, { details: issues });
    }
    return parsed.data;
  }

  async execute(name: string, input: unknown, ctx: ExecuteContext): Promise<unknown> {
    const script = this.#scripts.get(name);
    if (!script) throw unknownPluginError(name, this.#scripts.keys());
    const call: MockCall = { name, input, jobId: ctx.jobId, attempt: ctx.attempt, job: { ...ctx.job }, aborted: false };
    this.calls.push(call);
    const signal = script.ignoreAbort ? undefined : ctx.signal;
    try {
      const delay = script.delayMs ?? 0;
      const steps = timeline(script);
      let elapsed = 0;
      for (const step of steps) {
        const wait = step.at * delay - elapsed;
        elapsed += wait;
        if (wait > 0) await sleep(wait, signal);
        else if (signal?.aborted) throw signal.reason;
        step.play(ctx);
      }
      if (steps.length === 0 && delay > 0) await sleep(delay, signal);
      if (signal?.aborted) throw signal.reason;
      if ('error' in script) throw script.error;
      return typeof script.result === 'function' ? await (script.result as (input: unknown, ctx: ExecuteContext) => unknown)(input, ctx) : script.result;
    } finally {
      call.aborted = ctx.signal.aborted;
    }
  }
}
