import { isJobwireError, JobwireError } from '../errors.js';
import { isStatusEvent, isTerminalStatus, type JobEvent } from '../job.js';
import type { PluginMeta } from '../plugin-manager/types.js';
import type { JobOutput, ListQuery } from '../tracker/types.js';
import { followJobs } from './follow.js';
import { cancellable } from './iterator.js';
import type { JobClient } from './job-client.js';
import { checkJobId, unknownJob } from './job-id.js';
import type { FollowOptions, JobClientOptions, ReconnectOptions, WaitOptions } from './options.js';
import type { AnyPlugins, JobEventOf, JobOf, JobPageOf, JobStatusEventOf, PluginMap, TypedJob } from './plugin-types.js';
import { subscribe } from './subscribe.js';
import { createTransport } from './transport.js';
import { watchJobs } from './watch.js';

const invalid = (message: string): JobwireError => new JobwireError('INVALID_CONFIG', message);

/**
 * A path below `baseUrl`, without its trailing slashes. It starts with one `/` and holds no `\` and
 * no control character: `//host`, `/\host` or `/<tab>/host` would send the client's headers to another host.
 */
function checkPath(path: string, name: string): string {
  if (typeof path !== 'string' || !/^\/(?![/\\])[^\\\0-\x1f\x7f]*$/.test(path)) throw invalid(`\`${name}\` must be a path on the API's host, starting with one "/", got ${JSON.stringify(path)}`);
  return path.replace(/\/+$/, '');
}

/** The reconnect options with their defaults, checked: positive finite numbers, the first wait not above the longest. */
function checkReconnect(options: ReconnectOptions = {}): Required<ReconnectOptions> {
  if (typeof options !== 'object' || options === null) throw invalid('`reconnect` must be an object');
  const { initialDelayMs = 500, maxDelayMs = 15_000 } = options;
  for (const [name, value] of [
    ['initialDelayMs', initialDelayMs],
    ['maxDelayMs', maxDelayMs],
  ] as const) {
    if (typeof value !== 'number' || !(value > 0 && value < Infinity)) throw invalid(`\`reconnect.${name}\` must be a positive number of milliseconds, got ${String(value)}`);
  }
  if (maxDelayMs < initialDelayMs) throw invalid(`\`reconnect.maxDelayMs\` (${maxDelayMs}) must not be below \`reconnect.initialDelayMs\` (${initialDelayMs})`);
  return { initialDelayMs, maxDelayMs };
}

/**
 * A client of the routes `createJobRoutes` serves, for browsers, Node 20+, Bun and Deno (it uses
 * only `fetch` and web streams). Type it with the server's plugins to get typed inputs and results.
 *
 * @throws JobwireError `INVALID_CONFIG` for a malformed option.
 * @example
 * ```ts
 * import { createJobClient } from 'jobwire/client';
 * import type { AppPlugins } from '../server/plugins.js'; // export type AppPlugins = { transcribe: typeof transcribe }
 *
 * const client = createJobClient<AppPlugins>({ baseUrl: '/api' });
 * const job = await client.submit('transcribe', { audio: 'a.wav' });
 * for await (const event of client.follow(job.id)) console.log(event.type);
 * ```
 */
export function createJobClient<P extends PluginMap<P> = AnyPlugins>(options: JobClientOptions): JobClient<P> {
  type Job = JobOf<P>;
  const basePath = checkPath(options.basePath ?? '/jobs', 'basePath');
  const pluginsPath = checkPath(options.pluginsPath ?? '/plugins', 'pluginsPath');
  const reconnect = checkReconnect(options.reconnect);
  const transport = createTransport(options, basePath, pluginsPath);
  // A job id is checked before anything is asked: `events`, `''` or `a/b` would reach another route.
  const jobPath = (id: string, rest = ''): string => `${basePath}/${checkJobId(id)}${rest}`;

  /** `GET /jobs/:id`: the job, or `undefined` when the server does not know it. */
  async function read(id: string, signal?: AbortSignal): Promise<Job | undefined> {
    try {
      return await transport.json<Job>('GET', jobPath(id), undefined, undefined, signal);
    } catch (error) {
      if (isJobwireError(error) && error.code === 'JOB_NOT_FOUND') return undefined;
      throw error;
    }
  }

  const client: JobClient<P> = {
    submit: (plugin, input, submitOptions = {}) => transport.json('POST', basePath, undefined, { ...submitOptions, plugin, input }),

    get: (id) => read(id),

    list: async (query: ListQuery = {}) => {
      const { status } = query;
      return transport.json<JobPageOf<P>>('GET', basePath, { ...query, status: typeof status === 'string' ? status : status?.join(',') });
    },

    cancel: async (id, reason) => transport.json<Job>('POST', jobPath(id, '/cancel'), { reason }),

    retry: async (id) => transport.json<Job>('POST', jobPath(id, '/retry')),

    output: async (id) => transport.json<JobOutput>('GET', jobPath(id, '/output')),

    plugins: async () => (await transport.json<{ plugins: PluginMeta[] }>('GET', pluginsPath)).plugins,

    wait: (async (job: TypedJob<P> | string, waitOptions: WaitOptions = {}): Promise<Job> => {
      const { signal, onOpen, onError } = waitOptions;
      let id = typeof job === 'string' ? job : (job as Job | undefined)?.id;
      try {
        if (signal?.aborted) throw signal.reason;
        // By id, read the job first: one that ended is returned without reading its whole log.
        const current = typeof job === 'string' ? await read(job, signal) : (job as Job);
        if (!current) throw unknownJob(job);
        if (isTerminalStatus(current.status)) return current;
        id = current.id;
        for await (const event of client.follow(id, { signal, onOpen, onError }) as AsyncIterable<JobEvent>) {
          if (isStatusEvent(event) && isTerminalStatus(event.job.status)) return event.job as Job;
        }
        if (signal?.aborted) throw signal.reason;
        // The stream ended without an ending (a 204): the job has ended; read it.
        const ended = await read(id, signal);
        if (!ended) throw unknownJob(id);
        return ended;
      } catch (error) {
        if (!signal?.aborted) throw error;
        // Aborted, wherever it stood (a read, the stream, a wait to reconnect): say how.
        const timedOut = (signal.reason as { name?: unknown } | undefined)?.name === 'TimeoutError';
        throw new JobwireError(timedOut ? 'TIMEOUT' : 'CANCELLED', `Stopped waiting for job ${String(id)}${timedOut ? ': timed out' : ''}`, { cause: signal.reason });
      }
    }) as JobClient<P>['wait'],

    follow: (ids: string | readonly string[], followOptions: FollowOptions = {}) => {
      const start = () => followJobs(transport, basePath, ids, followOptions.lastEventId);
      return cancellable((signal) => subscribe(transport, start, { ...followOptions, reconnect }, signal), followOptions.signal) as AsyncIterableIterator<JobEventOf<P>>;
    },

    watch: (query = {}, watchOptions = {}) => {
      const start = () => watchJobs(transport, basePath, query);
      return cancellable((signal) => subscribe(transport, start, { ...watchOptions, reconnect }, signal), watchOptions.signal) as AsyncIterableIterator<JobStatusEventOf<P>>;
    },
  };
  return client;
}
