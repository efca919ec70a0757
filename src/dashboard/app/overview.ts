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
  const section = h('section', { class: 'overview', 'aria-label': 'Jobs by status', 'data-testid': 'overview' }, ...tiles, throughput);
  store.on('stats', show);
  store.on('filters', (filters) => {
    for (const tile of tiles) setAttr(tile, 'aria-pressed', String(tile.dataset.status === filters.status));
  });
  // Refused stats: no tiles of dashes; `statsNoteView` says why.
  store.on('access', (area, refusal) => {
    if (area === 'stats') section.hidden = refusal !== undefined;
  });
  return section;
}

/**
 * Where the tiles and charts were, when the server refuses the stats: one line that says so. Not
 * when the list is refused too: the jobs area says it for both.
 */
export function statsNoteView(store: Store): HTMLElement {
  const note = h('p', { class: 'banner banner--note', 'data-testid': 'stats-refused', role: 'note', hidden: true });
  store.on('access', () => {
    const refusal = store.refused.get('stats');
    note.hidden = refusal === undefined || store.refused.has('list');
    setText(note, refusal ? `The counts and plugin charts are not shown: the server refused the stats (${refusal.code}).` : '');
  });
  return note;
}
