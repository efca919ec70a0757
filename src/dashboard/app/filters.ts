import { h, replaceChildren, setAttr } from './dom.js';
import { STATUSES } from './status.js';
import type { Filters, Store, StatusFilter } from './store.js';

/** How long typing in the tenant box waits before the list follows it. */
const TYPING_MS = 350;

/** The filter bar: status (segmented), plugin (a select of the server's plugins) and tenant (typed). */
export function filtersView(store: Store, onChange: (filters: Filters) => void): HTMLElement {
  const change = (patch: Partial<Filters>): void => onChange({ ...store.filters, ...patch });

  const segments = (['all', ...STATUSES] as StatusFilter[]).map((status) =>
    h(
      'button',
      { type: 'button', class: 'seg-btn', 'data-status': status, 'data-testid': `filter-status-${status}`, 'aria-pressed': String(store.filters.status === status), onclick: () => change({ status }) },
      status === 'all' ? 'All' : status,
    ),
  );
  const statusGroup = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Status' }, ...segments);

  const plugin = h('select', { class: 'input', 'data-testid': 'filter-plugin', 'aria-label': 'Plugin', onchange: () => change({ plugin: plugin.value }) });
  const fillPlugins = (): void => {
    const names = new Set(store.plugins.map((meta) => meta.name));
    const options = [h('option', { value: '' }, 'All plugins'), ...store.plugins.map((meta) => h('option', { value: meta.name }, meta.title === meta.name ? meta.name : `${meta.title} (${meta.name})`))];
    // A plugin in the address that the server does not list still shows as chosen.
    if (store.filters.plugin !== '' && !names.has(store.filters.plugin)) options.push(h('option', { value: store.filters.plugin }, store.filters.plugin));
    replaceChildren(plugin, ...options);
    plugin.value = store.filters.plugin;
  };
  fillPlugins();

  let typing: ReturnType<typeof setTimeout> | undefined;
  const commitTenant = (): void => {
    clearTimeout(typing);
    if (tenant.value.trim() !== store.filters.tenant) change({ tenant: tenant.value.trim() });
  };
  const tenant = h('input', {
    class: 'input',
    type: 'search',
    placeholder: 'Tenant',
    autocomplete: 'off',
    spellcheck: 'false',
    'data-testid': 'filter-tenant',
    'aria-label': 'Tenant',
    oninput: () => {
      clearTimeout(typing);
      typing = setTimeout(commitTenant, TYPING_MS);
    },
    onkeydown: (event) => {
      if ((event as KeyboardEvent).key === 'Enter') commitTenant();
    },
    onchange: commitTenant,
  });
  tenant.value = store.filters.tenant;

  const clear = h('button', { type: 'button', class: 'link-btn', 'data-testid': 'filter-clear', onclick: () => onChange({ status: 'all', plugin: '', tenant: '' }) }, 'Clear');
  const showClear = (filters: Filters): void => {
    clear.hidden = filters.status === 'all' && filters.plugin === '' && filters.tenant === '';
  };
  showClear(store.filters);

  store.on('plugins', fillPlugins);
  store.on('filters', (filters) => {
    for (const segment of segments) setAttr(segment, 'aria-pressed', String(segment.dataset.status === filters.status));
    if (plugin.value !== filters.plugin) fillPlugins();
    if (document.activeElement !== tenant) tenant.value = filters.tenant;
    showClear(filters);
  });
  return h('div', { class: 'filters', 'data-testid': 'filters' }, statusGroup, h('div', { class: 'filter-fields' }, plugin, tenant, clear));
}
