import { isTerminalEventType } from '../../job.js';
import { describeFailure, describeRefusal, refusalOf, type DashboardApi } from './api.js';
import type { Filters, Store } from './store.js';

/** How long the page waits before it opens the stream again after the server failed it (not a refusal). */
const FAILED_RETRY_MS = 10_000;

/** What the live stream asks of the page. */
export interface LiveHooks {
  /** The stream (re)opened: read the list again, since events before this moment were not seen. */
  opened(): void;
  /** A job ended: the stats have moved. */
  ended(): void;
}

/**
 * Keep the page live over one tenant-wide stream (`client.watch`), filtered by plugin and tenant
 * (status is filtered on the page: a job that leaves the chosen status must still be heard, to
 * leave the list). `restart` follows new filters; the client reconnects by itself on network
 * errors and 5xx. A refusal (403, 401) is not asked again until `restart`: the badge says
 * "No access". Another failure is tried again after a while. `stop` ends it.
 */
export function startLive(api: DashboardApi, store: Store, hooks: LiveHooks): { restart(filters: Filters): void; stop(): void } {
  let controller: AbortController | undefined;
  let stopped = false;

  async function run(filters: Filters, signal: AbortSignal): Promise<void> {
    const query = { ...(filters.plugin !== '' && { plugin: filters.plugin }), ...(filters.tenant !== '' && { tenantId: filters.tenant }) };
    while (!signal.aborted) {
      store.setConnection('connecting');
      try {
        const events = api.client.watch(query, {
          signal,
          onOpen: () => {
            store.setConnection('live');
            hooks.opened();
          },
          // The client reconnects by itself (network, 5xx): say so until it is back.
          onError: (error) => store.setConnection('reconnecting', describeFailure(error)),
        });
        for await (const event of events) {
          store.applyJob(event.job);
          if (isTerminalEventType(event.type)) hooks.ended();
        }
      } catch (error) {
        if (signal.aborted) return;
        const refusal = refusalOf(error);
        if (refusal) {
          // Asking again will not help until the user has access: wait for a restart (new filters, Try again).
          store.setConnection('refused', describeRefusal(refusal));
          return;
        }
        store.setConnection('offline', describeFailure(error));
        hooks.opened(); // still show the jobs, without live updates
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, FAILED_RETRY_MS);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve();
          }, { once: true });
        });
      }
    }
  }

  return {
    restart(filters) {
      controller?.abort();
      if (stopped) return;
      controller = new AbortController();
      void run(filters, controller.signal);
    },
    stop() {
      stopped = true;
      controller?.abort();
    },
  };
}
