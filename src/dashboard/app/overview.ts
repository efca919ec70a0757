import type { JobStats } from '../../tracker/types.js';
import { h, setAttr, setText } from './dom.js';
import { formatCount, formatRate } from './format.js';
import { STATUSES } from './status.js';
import type { Store, StatusFilter } from './store.js';

/** A tile per status with the number of jobs held now, and one with the throughput; a status tile filters the table. */
export function overviewView(store: Store, onStatus: (status: StatusFilter) => void): HTMLElement {
  const values = new Map<string, HTMLElement>();
  const tiles = STATUSES.map((status) => {
    const value = h('span', { class: 'kpi-value' }, '–');
    values.set(status, value);
    const sub = h('span', { class: 'kpi-sub' });
    values.set(`${status}-sub`, sub);
    return h(
      'button',
      {
        type: 'button',
        class: 'kpi',
        'data-status': status,
        'data-testid': `kpi-${status}`,
        'aria-pressed': String(store.filters.status === status),
        onclick: () => onStatus(store.filters.status === status ? 'all' : status),
      },
      h('span', { class: 'kpi-label' }, h('span', { class: 'kpi-dot', 'aria-hidden': 'true' }), status),
      value,
      sub,
    );
  });
  const rate = h('span', {}, '–');
  const rateSub = h('span', { class: 'kpi-sub' });
  const throughput = h(
    'div',
    { class: 'kpi kpi--static', 'data-testid': 'kpi-throughput' },
    h('span', { class: 'kpi-label' }, 'throughput'),
    h('span', { class: 'kpi-value' }, rate, h('span', { class: 'kpi-unit' }, '/min')),
    rateSub,
  );

  const show = (stats: JobStats): void => {
    for (const status of STATUSES) setText(values.get(status) as HTMLElement, formatCount(stats[status]));
    setText(values.get('queued-sub') as HTMLElement, stats.delayed > 0 ? `${formatCount(stats.delayed)} delayed` : '');
    let ended = 0;
    for (const plugin of Object.values(stats.plugins)) ended += plugin.finished.completed + plugin.finished.failed + plugin.finished.cancelled;
    const minutes = stats.windowMs / 60_000;
    setText(rate, formatRate(ended / minutes));
    setText(rateSub, `last ${Math.round(minutes)} min`);
  };
  store.on('stats', show);
  store.on('filters', (filters) => {
    for (const tile of tiles) setAttr(tile, 'aria-pressed', String(tile.dataset.status === filters.status));
  });
  return h('section', { class: 'overview', 'aria-label': 'Jobs by status' }, ...tiles, throughput);
}
