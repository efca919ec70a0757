import { createContext, createElement, useContext, type ReactElement, type ReactNode } from 'react';
import { JobwireError } from '../errors.js';
import type { JobClient, PluginMap } from '../client/index.js';
import type { RegisteredPlugins } from './register.js';

/**
 * A client of any plugin map: what the provider holds and a hook's `client` option takes. The hooks
 * type their own calls (from {@link Register}, or the client passed to them), not the context.
 */
// `any`, not `PluginMap`: a JobClient<AppPlugins> must fit, and its methods take P in both directions.
export type AnyJobClient = JobClient<any>;

const JobClientContext = createContext<AnyJobClient | undefined>(undefined);
JobClientContext.displayName = 'JobClientContext';

/** Props of {@link JobClientProvider}. */
export interface JobClientProviderProps {
  /** The client every hook below uses (unless a hook is given its own `client`). */
  client: AnyJobClient;
  /** The tree that uses it. */
  children?: ReactNode;
}

/**
 * Makes a `JobClient` available to `useJob`, `useSubmit` and `useJobClient` in the tree below.
 * Create the client once, outside render (module scope, or `useState(() => createJobClient(…))`).
 *
 * @example
 * ```tsx
 * const client = createJobClient<AppPlugins>({ baseUrl: '/api' });
 * root.render(<JobClientProvider client={client}><App /></JobClientProvider>);
 * ```
 */
export function JobClientProvider({ client, children }: JobClientProviderProps): ReactElement {
  return createElement(JobClientContext.Provider, { value: client }, children);
}

/**
 * The client a hook uses: its own `client` option, else the provider's.
 * @throws JobwireError `INVALID_CONFIG` when there is neither.
 */
export function useClientOf(own: AnyJobClient | undefined, hook: string): AnyJobClient {
  const provided = useContext(JobClientContext);
  const client = own ?? provided;
  if (client === undefined) throw new JobwireError('INVALID_CONFIG', `${hook} needs a JobClient: render it inside <JobClientProvider client={…}>, or pass { client }`);
  return client;
}

/**
 * The provider's client, typed from {@link Register} (or a type argument): for the calls the hooks
 * do not cover (`list`, `output`, `plugins`, `watch`…).
 * @throws JobwireError `INVALID_CONFIG` outside a {@link JobClientProvider}.
 * @example
 * ```ts
 * const client = useJobClient();
 * useEffect(() => void client.list({ status: 'running' }).then((page) => setJobs(page.jobs)), [client]);
 * ```
 */
export function useJobClient<P extends PluginMap<P> = RegisteredPlugins>(): JobClient<P> {
  return useClientOf(undefined, 'useJobClient') as JobClient<P>;
}
