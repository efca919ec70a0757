import { STATUSES } from './status.js';
import type { Filters } from './store.js';

/** The filters and the selected job, as the page's address holds them: a view can be shared or reloaded. */
export interface UrlState {
  filters: Filters;
  job: string | undefined;
}

/** The state in `location.search`: `?status=failed&plugin=transcribe&tenant=acme&job=<id>`. */
export function readUrlState(search: string): UrlState {
  const params = new URLSearchParams(search);
  const status = params.get('status') ?? 'all';
  return {
    filters: {
      status: (STATUSES as readonly string[]).includes(status) ? (status as Filters['status']) : 'all',
      plugin: params.get('plugin') ?? '',
      tenant: params.get('tenant') ?? '',
    },
    job: params.get('job') ?? undefined,
  };
}

/** Put the state in the address without a new history entry. */
export function writeUrlState({ filters, job }: UrlState): void {
  const params = new URLSearchParams();
  if (filters.status !== 'all') params.set('status', filters.status);
  if (filters.plugin !== '') params.set('plugin', filters.plugin);
  if (filters.tenant !== '') params.set('tenant', filters.tenant);
  if (job !== undefined) params.set('job', job);
  const search = params.toString();
  const url = `${location.pathname}${search === '' ? '' : `?${search}`}`;
  if (url !== `${location.pathname}${location.search}`) history.replaceState(null, '', url);
}
