/**
 * The dashboard's page script: reads the dashboard's API (`api/` beside the page) with
 * `jobwire/client`, keeps the jobs table live over one tenant-wide stream, and shows a job's detail
 * from its own stream. Built into `dashboard/app.js` (one minified ES module, the client inside).
 */
import type { ListQuery } from '../../tracker/types.js';
import { createDashboardApi, describeFailure, refusalOf } from './api.js';
import { chartsView } from './charts.js';
import { detailView } from './detail.js';
import { h, replaceChildren } from './dom.js';
import { filtersView } from './filters.js';
import { headerView } from './header.js';
import { startLive } from './live.js';
import { overviewView, statsNoteView } from './overview.js';
import { poll } from './polling.js';
import { Store, type Filters } from './store.js';
import { tableView } from './table.js';
import { toastRegion } from './toast.js';
import { readUrlState, writeUrlState } from './url-state.js';

/** How often the stats are read while the page is visible, and how soon after a job ends. */
const STATS_EVERY_MS = 5_000;
const STATS_SOON_MS = 750;
/** Jobs per page of the list. */
const PAGE_SIZE = 50;

function listQuery(filters: Filters): ListQuery {
  return {
    limit: PAGE_SIZE,
    ...(filters.status !== 'all' && { status: filters.status }),
    ...(filters.plugin !== '' && { plugin: filters.plugin }),
    ...(filters.tenant !== '' && { tenantId: filters.tenant }),
  };
}

function start(root: HTMLElement): void {
  const title = root.dataset.title ?? document.title;
  const api = createDashboardApi(new URL('api/', document.baseURI));
  const store = new Store();
  const initial = readUrlState(location.search);
  store.filters = initial.filters;

  let listing = 0;
  async function list(append: boolean): Promise<void> {
    const token = ++listing;
    const cursor = append ? store.nextCursor : undefined;
    store.beginList();
    store.setLoading(true);
    try {
      const page = await api.client.list({ ...listQuery(store.filters), ...(cursor !== undefined && { cursor }) });
      if (token !== listing) return; // newer filters asked meanwhile
      store.applyList(page.jobs, page.nextCursor, append);
      store.setRefused('list', undefined);
      store.setListError(undefined);
    } catch (error) {
      if (token !== listing) return;
      const refusal = refusalOf(error);
      if (refusal) {
        store.applyList([], undefined, false); // nothing of what was shown under other filters stays
        store.setListError(undefined);
        store.setRefused('list', refusal);
      } else {
        store.setRefused('list', undefined);
        store.setListError(`The jobs could not be read: ${describeFailure(error)}`);
      }
    } finally {
      if (token === listing) store.setLoading(false);
    }
  }

  const stats = poll(
    async () => {
      try {
        store.setStats(await api.stats(), Date.now());
        store.setRefused('stats', undefined);
        return true;
      } catch (error) {
        const refusal = refusalOf(error);
        if (!refusal) return true; // out of reach for now: the tiles keep their last numbers, the next poll tries again
        store.setRefused('stats', refusal);
        return false; // refused: asking again will not help, until Try again
      }
    },
    STATS_EVERY_MS,
    STATS_SOON_MS,
  );
  const live = startLive(api, store, { opened: () => void list(false), ended: () => stats.soon() });
  const loadPlugins = (): void => {
    api.client.plugins().then(
      (plugins) => store.setPlugins(plugins),
      () => {
        // Without the plugin list, plugins show by name; the list's own error says why.
      },
    );
  };
  /** After a refusal (the user may have signed in, or been let in meanwhile): ask for everything again. */
  const retry = (): void => {
    void list(false);
    live.restart(store.filters);
    stats.resume();
    if (store.plugins.length === 0) loadPlugins();
  };

  const setFilters = (filters: Filters): void => {
    const before = store.filters;
    store.setFilters(filters);
    writeUrlState({ filters, job: store.selected });
    if (filters.plugin !== before.plugin || filters.tenant !== before.tenant) live.restart(filters);
    void list(false);
  };
  const select = (id: string | undefined): void => {
    store.select(id);
    root.classList.toggle('has-detail', id !== undefined);
    writeUrlState({ filters: store.filters, job: id });
  };

  const detail = detailView(store, api, { open: select, close: () => select(undefined) });
  replaceChildren(
    root,
    headerView(store, title),
    h(
      'main',
      { class: 'main' },
      h(
        'div',
        { class: 'content' },
        statsNoteView(store),
        overviewView(store, (status) => setFilters({ ...store.filters, status })),
        chartsView(store, (plugin) => setFilters({ ...store.filters, plugin })),
        h('div', { class: 'list-bar' }, filtersView(store, setFilters)),
        tableView(store, { open: select, loadMore: () => void list(true), retry }),
      ),
      detail,
    ),
    toastRegion(),
  );
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && store.selected !== undefined) select(undefined);
  });

  loadPlugins();
  void list(false); // at once; again each time the stream opens
  live.restart(store.filters);
  if (initial.job !== undefined) select(initial.job);
}

const root = document.getElementById('app');
if (root) start(root);
