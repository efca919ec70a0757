import type { PluginMeta } from '../plugin-manager/types.js';
import type { JobOutput, ListQuery, SubmitOptions } from '../tracker/types.js';
import type { FollowOptions, WaitOptions, WatchOptions, WatchQuery } from './options.js';
import type { AnyPlugins, JobEventOf, JobOf, JobPageOf, JobStatusEventOf, PluginInputOf, PluginMap, PluginName, TypedJob } from './plugin-types.js';

/**
 * A client of the routes `createJobRoutes` serves, typed from the server's plugins: every job it
 * reads is a {@link JobOf} (narrow on `job.plugin` to type `input` and `result`). Errors are
 * `JobwireError`s: the server's own code (`INVALID_INPUT` with the zod issues in `details`,
 * `QUEUE_FULL`, `FORBIDDEN`…), or `UNAVAILABLE` when the server cannot be reached. A string that
 * cannot be a job id (not 1–128 of `A-Z a-z 0-9 _ -`, or `events`) is an unknown job, told
 * without a request.
 */
export interface JobClient<P extends PluginMap<P> = AnyPlugins> {
  /**
   * Submit a job (`POST /jobs`); its snapshot, `queued`.
   * @example const job = await client.submit('transcribe', { audio: 'a.wav' }, { tenantId: 'acme' });
   */
  submit<K extends PluginName<P>>(plugin: K, input: PluginInputOf<P, K>, options?: SubmitOptions): Promise<TypedJob<P, K>>;
  /** A job's snapshot (`GET /jobs/:id`), or `undefined` when the server does not know it. */
  get(id: string): Promise<JobOf<P> | undefined>;
  /** A page of jobs, newest first (`GET /jobs`); pass `nextCursor` back as `cursor` for the next. */
  list(query?: ListQuery): Promise<JobPageOf<P>>;
  /**
   * Cancel a live job (`POST /jobs/:id/cancel`); its snapshot. A job that already ended comes back
   * unchanged: this never deletes.
   */
  cancel(id: string, reason?: string): Promise<JobOf<P>>;
  /** Re-run a `failed` or `cancelled` job as a new job (`POST /jobs/:id/retry`); the new job's snapshot. */
  retry(id: string): Promise<JobOf<P>>;
  /** The output a job still retains (`GET /jobs/:id/output`). */
  output(id: string): Promise<JobOutput>;
  /** The server's plugins, with the JSON Schemas of their input (`GET /plugins`). */
  plugins(): Promise<PluginMeta[]>;
  /**
   * Wait for a job to end; its terminal snapshot (`completed`, `failed` or `cancelled`), `result`
   * typed. A job that already ended is returned at once (by id: after one `GET /jobs/:id`); else it
   * follows the job's stream, reconnecting as `follow` does, until the server answers: bound it with
   * `signal: AbortSignal.timeout(ms)`, and watch its connections with `onError` and `onOpen`. An
   * abort rejects with `TIMEOUT` when the signal's reason is a `TimeoutError` (`AbortSignal.timeout`),
   * else with `CANCELLED`; the reason is the error's `cause`.
   * @example const { result } = await client.wait(await client.submit('transcribe', { audio: 'a.wav' }), { signal: AbortSignal.timeout(60_000) });
   */
  wait<K extends PluginName<P>>(job: TypedJob<P, K>, options?: WaitOptions): Promise<TypedJob<P, K>>;
  wait(id: string, options?: WaitOptions): Promise<JobOf<P>>;
  /**
   * Every event of a job (`GET /jobs/:id/events`), or of several (`GET /jobs/events?id=…`, up to
   * 100), from the first (or after `lastEventId`) until each one's terminal event. Reconnects by
   * itself (5xx, 408, 429, network, a stream cut short), resuming after the last event seen: no
   * status event is skipped, none comes twice; `onError` and `onOpen` tell when a connection is
   * lost and back. It retries until the server answers, without end (a server that cannot be
   * reached at all included): bound it with `signal: AbortSignal.timeout(ms)`. An unknown job
   * throws `JOB_NOT_FOUND`; a `break`, `return()` or the signal ends it quietly and closes the
   * connection.
   * @example
   * ```ts
   * for await (const event of client.follow(job.id)) if (event.type === 'output') console.log(event.chunk);
   * ```
   */
  follow(id: string, options?: FollowOptions): AsyncIterableIterator<JobEventOf<P>>;
  follow(ids: readonly string[], options?: FollowOptions): AsyncIterableIterator<JobEventOf<P>>;
  follow(idOrIds: string | readonly string[], options?: FollowOptions): AsyncIterableIterator<JobEventOf<P>>;
  /**
   * The status events of every job matching `query`, live, as they happen (`GET /jobs/events`):
   * for a list page. No replay and no end: it reconnects by itself and calls `onOpen` after each
   * (re)connect, when the page re-reads the list.
   */
  watch(query?: WatchQuery, options?: WatchOptions): AsyncIterableIterator<JobStatusEventOf<P>>;
}
