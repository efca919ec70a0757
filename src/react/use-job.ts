import { useCallback, useEffect, useRef, useState } from 'react';
import type { JobwireError } from '../errors.js';
import type { JobSnapshot } from '../job.js';
import { asJobwireError } from './as-jobwire-error.js';
import { EMPTY_VIEW, JobFeed, type JobOutputState } from './job-feed.js';
import { useClientOf, type AnyJobClient } from './provider.js';

/** Options for {@link useJob}. */
export interface UseJobOptions {
  /** The client to use instead of the {@link JobClientProvider}'s. */
  client?: AnyJobClient;
}

/**
 * What {@link useJob} returns. `J` is the snapshot type: `JobSnapshot`, or the `TypedJob` of the
 * job passed in (from `useSubmit`), whose `result` is typed.
 */
export interface UseJobResult<J extends JobSnapshot = JobSnapshot> {
  /**
   * The job as of its latest status or progress event; before the first arrives, the snapshot
   * passed in (or the one `retry` answered with), else undefined. Undefined without a job.
   */
  job: J | undefined;
  /** Its output so far: `text`, `chunks`, `gap`. */
  output: JobOutputState;
  /**
   * What went wrong: following the job (`JOB_NOT_FOUND`, `FORBIDDEN`…; nothing more will come), or
   * the last `cancel`/`retry` request (until one succeeds). A job that failed is not an error here:
   * read `job.status` and `job.error`.
   */
  error: JobwireError | undefined;
  /**
   * True while the connection is down and the client reconnects (with backoff): `job` and `output`
   * may be behind meanwhile, and catch up when it is back, nothing lost or repeated.
   */
  reconnecting: boolean;
  /**
   * Cancel the job (`POST /jobs/:id/cancel`; a finished job stays as it is). Resolves with the
   * answered snapshot, or undefined when the request failed (then see `error`); never rejects.
   */
  cancel: (reason?: string) => Promise<J | undefined>;
  /**
   * Re-run a `failed` or `cancelled` job as a new job of the same plugin, and follow that one from
   * then on (its `retryOf` is the old id). Resolves with the new job, or undefined when the request
   * failed (then see `error`); never rejects.
   */
  retry: () => Promise<J | undefined>;
}

/** A `retry` of the job of id `from` started `job`: followed instead, until the id changes. */
interface Retried {
  from: string;
  job: JobSnapshot;
}

/** The feed a render shows, and its version then: a new object each change, so React renders. */
interface Shown {
  feed: JobFeed;
  version: number;
}

/**
 * Follow a job live: its snapshot, its output as it is written, and `cancel`/`retry`. Pass its id,
 * or its snapshot (shown until the first event; a `TypedJob` from `useSubmit` types `job.result`).
 * Events come from `client.follow(id)`, which resumes after a dropped connection without repeating
 * or losing any; the stream is closed when the component unmounts or the job changes. Without a
 * job (`undefined` or `null`, e.g. before a submit answered) it follows nothing.
 *
 * @example
 * ```tsx
 * function Progress({ id }: { id: string }) {
 *   const { job, output, error, cancel } = useJob(id);
 *   if (error) return <p>{error.message}</p>;
 *   return (
 *     <div>
 *       <progress max={100} value={job?.progress ?? 0} /> {job?.status}
 *       <pre>{output.text}</pre>
 *       <button onClick={() => void cancel()}>Cancel</button>
 *     </div>
 *   );
 * }
 * ```
 */
export function useJob<J extends JobSnapshot = JobSnapshot>(job: string | J | null | undefined, options: UseJobOptions = {}): UseJobResult<J> {
  const client = useClientOf(options.client, 'useJob');
  const id = typeof job === 'string' ? job : (job?.id ?? undefined);
  const [retried, setRetried] = useState<Retried | undefined>(undefined);
  // A retry followed the job of another id: forget it as soon as the id changes (adjusting state on a prop change, during render).
  if (retried !== undefined && retried.from !== id) setRetried(undefined);
  const retriedJob = retried !== undefined && retried.from === id ? retried.job : undefined;
  const followed = id === undefined ? undefined : (retriedJob?.id ?? id);
  /** What `job` is until the stream's first status event: the job a retry answered with, or the snapshot passed in. */
  const placeholder = retriedJob ?? (typeof job === 'object' ? job : undefined);

  // The feed outlives one run of the effect, so a second run for the same job resumes where the first stopped.
  const feedRef = useRef<JobFeed | undefined>(undefined);
  const [shown, setShown] = useState<Shown | undefined>(undefined);
  /** Render `feed` as it is now. */
  const show = useCallback((feed: JobFeed): void => setShown({ feed, version: feed.version }), []);

  useEffect(() => {
    if (followed === undefined) return undefined;
    let feed = feedRef.current;
    if (feed === undefined || !feed.isFor(client, followed)) {
      feed = new JobFeed(client, followed);
      feedRef.current = feed;
    }
    const current = feed;
    show(current);
    if (current.ended) return undefined;
    const controller = new AbortController();
    const { signal } = controller;
    void (async () => {
      try {
        const from = current.lastSeq > 0 ? { lastEventId: current.lastSeq } : {};
        /** The client lost the connection and reconnects (true), or has it back (false). */
        const reconnecting = (value: boolean) => (): void => {
          if (!signal.aborted && current.setReconnecting(value)) show(current);
        };
        for await (const event of client.follow(followed, { signal, ...from, onError: reconnecting(true), onOpen: reconnecting(false) })) {
          if (signal.aborted) return;
          if (current.apply(event)) show(current);
        }
      } catch (error) {
        if (signal.aborted) return; // unmounted or another job: nobody shows this error
        current.fail(asJobwireError(error), false);
        show(current);
      }
    })();
    return () => controller.abort();
  }, [client, followed, show]);

  /** The feed of the job followed now, for an action's outcome (undefined before its effect ran). */
  const feedNow = useCallback((): JobFeed | undefined => {
    const feed = feedRef.current;
    return followed !== undefined && feed?.isFor(client, followed) ? feed : undefined;
  }, [client, followed]);

  const actionFailed = useCallback(
    (error: unknown): undefined => {
      const feed = feedNow();
      if (feed === undefined) return undefined;
      feed.fail(asJobwireError(error), true);
      show(feed);
      return undefined;
    },
    [feedNow, show],
  );

  const actionSucceeded = useCallback((): void => {
    const feed = feedNow();
    if (feed?.actionSucceeded()) show(feed);
  }, [feedNow, show]);

  const cancel = useCallback(
    async (reason?: string): Promise<J | undefined> => {
      if (followed === undefined) return undefined;
      try {
        const answered = await client.cancel(followed, reason);
        actionSucceeded();
        return answered as J;
      } catch (error) {
        return actionFailed(error);
      }
    },
    [client, followed, actionFailed, actionSucceeded],
  );

  const retry = useCallback(async (): Promise<J | undefined> => {
    if (followed === undefined || id === undefined) return undefined;
    try {
      const next = await client.retry(followed);
      // Follow the new job, unless the component moved on to another one meanwhile.
      if (feedNow() !== undefined) setRetried({ from: id, job: next });
      return next as J;
    } catch (error) {
      return actionFailed(error);
    }
  }, [client, followed, id, feedNow, actionFailed]);

  // Until the effect of a new job ran, the feed shown is the old job's: show nothing of it.
  const view = followed !== undefined && shown?.feed.isFor(client, followed) ? shown.feed.view() : EMPTY_VIEW;
  // The snapshots come from the server that ran the job's plugin: `J` (a TypedJob) describes them.
  const current = (view.job ?? (placeholder?.id === followed ? placeholder : undefined)) as J | undefined;
  return { job: current, output: view.output, error: view.error, reconnecting: view.reconnecting, cancel, retry };
}
