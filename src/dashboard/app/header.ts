import { h, s, setAttr, setText } from './dom.js';
import type { Connection, Store } from './store.js';

const CONNECTION_LABEL: Record<Connection, string> = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', offline: 'Offline', refused: 'No access' };

/** The pulse-line mark of the page's icon. */
function logo(): SVGSVGElement {
  return s(
    'svg',
    { class: 'logo', viewBox: '0 0 32 32', width: 28, height: 28, 'aria-hidden': 'true' },
    s('rect', { width: 32, height: 32, rx: 8, class: 'logo-bg' }),
    s('path', { d: 'M6 17h5l3-7 4 13 3-6h5', class: 'logo-line' }),
  );
}

/** The top bar: the mark, the title, and whether the page is live (the tenant-wide stream is open), or has no access to it. */
export function headerView(store: Store, title: string): HTMLElement {
  const badge = h('span', { class: 'conn', 'data-testid': 'connection', 'data-state': store.connection }, h('span', { class: 'conn-dot', 'aria-hidden': 'true' }), h('span', { class: 'conn-label' }, CONNECTION_LABEL[store.connection]));
  store.on('connection', (connection, detail) => {
    setAttr(badge, 'data-state', connection);
    setText(badge.lastElementChild as Element, CONNECTION_LABEL[connection]);
    setAttr(badge, 'title', detail);
  });
  return h(
    'header',
    { class: 'topbar' },
    h('div', { class: 'brand' }, logo(), h('span', { class: 'brand-title' }, title), h('span', { class: 'brand-sub' }, 'Jobs')),
    badge,
  );
}
