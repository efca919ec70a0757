import { isJobwireError, JobwireError } from '../errors.js';
import { isStatusEvent, isTerminalStatus, type JobSnapshot } from '../job.js';
import type { PluginMeta } from '../plugin-manager/types.js';
import type { JobOutput, JobPage, ListQuery } from '../tracker/types.js';
import { followJobs } from './follow.js';
import { cancellable } from './iterator.js';
import type { JobClient } from './job-client.js';
import type { FollowOptions, JobClientOptions } from './options.js';
import type { AnyPlugins, PluginMap, PluginName, TypedJob } from './plugin-types.js';
import { subscribe } from './subscribe.js';
import { createTransport } from './transport.js';
import { watchJobs } from './watch.js';

function checkPath(path: string, name: string): string {
  if (typeof path !== 'string' || !path.startsWith('/')) throw new JobwireError('INVALID_CONFIG', `\`${name}\` must start with "/"`);
  return path.replace(/\/+$/, '');
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
export function createJobClient<P extends PluginMap = AnyPlugins>(options: JobClientOptions): JobClient<P> {
  const basePath = checkPath(options.basePath ?? '/jobs', 'basePath');
  const pluginsPath = checkPath(options.pluginsPath ?? '/plugins', 'pluginsPath');
  const transport = createTransport(options);
  const { reconnect } = options;
  const jobPath = (id: string, rest = ''): string => `${basePath}/${encodeURIComponent(id)}${rest}`;

  const client: JobClient<P> = {
    submit: (plugin, input, submitOptions = {}) => transport.json('POST', basePath, undefined, { ...submitOptions, plugin, input }),

    async get(id) {
      try {
        return await transport.json<JobSnapshot>('GET', jobPath(id));
      } catch (error) {
        if (isJobwireError(error) && error.code === 'JOB_NOT_FOUND') return undefined;
        throw error;
      }
    },

    list: (query: ListQuery = {}) => {
      const { status } = query;
      return transport.json<JobPage>('GET', basePath, { ...query, status: typeof status === 'string' ? status : status?.join(',') });
    },

    cancel: (id, reason) => transport.json<JobSnapshot>('POST', jobPath(id, '/cancel'), { reason }),

    retry: (id) => transport.json<JobSnapshot>('POST', jobPath(id, '/retry')),

    output: (id) => transport.json<JobOutput>('GET', jobPath(id, '/output')),

    plugins: async () => (await transport.json<{ plugins: PluginMeta[] }>('GET', pluginsPath)).plugins,

    async wait<K extends PluginName<P>>(job: TypedJob<P, K> | string, waitOptions: { signal?: AbortSignal | undefined } = {}): Promise<TypedJob<P, K>> {
      type Typed = TypedJob<P, K>;
      if (typeof job !== 'string' && isTerminalStatus(job.status)) return job;
      const id = typeof job === 'string' ? job : job.id;
      const { signal } = waitOptions;
      for await (const event of client.follow(id, { signal })) {
        if (isStatusEvent(event) && isTerminalStatus(event.job.status)) return event.job as Typed;
      }
      if (signal?.aborted) throw new JobwireError('CANCELLED', `Stopped waiting for job ${id}`, { cause: signal.reason });
      // The stream ended without an ending (a 204): the job has ended; read it.
      const ended = await client.get(id);
      if (!ended) throw new JobwireError('JOB_NOT_FOUND', `Unknown job ${id}`);
      return ended as Typed;
    },

    follow: (ids: string | readonly string[], followOptions: FollowOptions = {}) => {
      const start = () => followJobs(transport, basePath, ids, followOptions.lastEventId);
      return cancellable((signal) => subscribe(transport, start, { ...followOptions, reconnect }, signal), followOptions.signal);
    },

    watch: (query = {}, watchOptions = {}) => {
      const start = () => watchJobs(transport, basePath, query);
      return cancellable((signal) => subscribe(transport, start, { ...watchOptions, reconnect }, signal), watchOptions.signal);
    },
  };
  return client;
}
