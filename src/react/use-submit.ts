import { useCallback, useRef, useState } from 'react';
import type { JobwireError } from '../errors.js';
import type { JobClient, PluginInputOf, PluginMap, PluginName, SubmitOptions, TypedJob } from '../client/index.js';
import { asJobwireError } from './as-jobwire-error.js';
import { useClientOf } from './provider.js';
import type { RegisteredPlugins } from './register.js';

/** Options for {@link useSubmit}. */
export interface UseSubmitOptions<P extends PluginMap<P> = RegisteredPlugins> {
  /** The client to use instead of the {@link JobClientProvider}'s; its plugin map types the hook. */
  client?: JobClient<P>;
}

/** What {@link useSubmit} returns. */
export interface UseSubmitResult<P extends PluginMap<P>, K extends PluginName<P>> {
  /**
   * Submit a job of the hook's plugin (`POST /jobs`). Resolves with the new job (`queued`), or
   * undefined when the request failed (then see `error`: `INVALID_INPUT` carries zod's issues in
   * `details`); never rejects.
   */
  submit: (input: PluginInputOf<P, K>, options?: SubmitOptions) => Promise<TypedJob<P, K> | undefined>;
  /** The job the last submit created, as answered (follow it live with `useJob(job?.id)`). */
  job: TypedJob<P, K> | undefined;
  /** Why the last submit failed. */
  error: JobwireError | undefined;
  /** True while the last submit waits for its answer. */
  pending: boolean;
}

interface SubmitState<J> {
  job: J | undefined;
  error: JobwireError | undefined;
  pending: boolean;
}

/**
 * Submit jobs of one plugin, with `input` typed from the plugin: from {@link Register}, or from the
 * `client` option's plugin map. Only the last submit's outcome is shown (an earlier one that
 * answers later is ignored). Call `submit` from an event handler: React never calls it twice; from
 * an effect, pass an `idempotencyKey` so StrictMode's second run gets the same job.
 *
 * @example
 * ```tsx
 * function Upload() {
 *   const { submit, job, error, pending } = useSubmit('transcribe');
 *   const { output } = useJob(job?.id);
 *   return (
 *     <form action={(data) => void submit({ audio: String(data.get('audio')) })}>
 *       <input name="audio" /> <button disabled={pending}>Transcribe</button>
 *       {error && <p>{error.message}</p>}
 *       <pre>{output.text}</pre>
 *     </form>
 *   );
 * }
 * ```
 */
export function useSubmit<P extends PluginMap<P> = RegisteredPlugins, K extends PluginName<P> = PluginName<P>>(plugin: K, options: UseSubmitOptions<P> = {}): UseSubmitResult<P, K> {
  const client = useClientOf(options.client, 'useSubmit') as JobClient<P>;
  const [state, setState] = useState<SubmitState<TypedJob<P, K>>>({ job: undefined, error: undefined, pending: false });
  /** Numbers the calls: only the latest one's outcome is shown. */
  const calls = useRef(0);

  const submit = useCallback(
    async (input: PluginInputOf<P, K>, submitOptions?: SubmitOptions): Promise<TypedJob<P, K> | undefined> => {
      const call = ++calls.current;
      setState({ job: undefined, error: undefined, pending: true });
      try {
        const job = await client.submit(plugin, input, submitOptions);
        if (call === calls.current) setState({ job, error: undefined, pending: false });
        return job;
      } catch (error) {
        if (call === calls.current) setState({ job: undefined, error: asJobwireError(error), pending: false });
        return undefined;
      }
    },
    [client, plugin],
  );

  return { submit, job: state.job, error: state.error, pending: state.pending };
}
