import { h, replaceChildren, setText } from './dom.js';
import { pluginCard } from './plugin-card.js';
import type { Store } from './store.js';

/** The per-plugin charts: a card for each plugin the server runs or has stats for, refreshed with each stats poll. */
export function chartsView(store: Store, onPlugin: (plugin: string) => void): HTMLElement {
  const cards = new Map<string, ReturnType<typeof pluginCard>>();
  const grid = h('div', { class: 'plugin-grid', 'data-testid': 'plugin-cards' });
  const caption = h('span', { class: 'section-note' });

  const render = (): void => {
    const stats = store.stats;
    const names = [...new Set([...store.plugins.map((plugin) => plugin.name), ...Object.keys(stats?.plugins ?? {})])];
    if (names.join('\n') !== [...cards.keys()].join('\n')) {
      cards.clear();
      for (const name of names) cards.set(name, pluginCard(name, store.pluginTitle(name), onPlugin));
      replaceChildren(grid, ...[...cards.values()].map((card) => card.element));
    }
    if (!stats) return;
    setText(caption, `last ${Math.round(stats.windowMs / 60_000)} min · all tenants`);
    for (const [name, card] of cards) card.update(stats.plugins[name], stats.windowMs, store.rates.get(name) ?? []);
  };
  const section = h('section', { class: 'section charts', 'aria-label': 'Plugins' }, h('div', { class: 'section-head' }, h('h2', {}, 'Plugins'), caption), grid);
  store.on('plugins', render);
  store.on('stats', render);
  store.on('access', (area, refusal) => {
    if (area === 'stats') section.hidden = refusal !== undefined; // nothing to chart
  });
  return section;
}
