import { h, setAttr } from './dom.js';

/** A tab strip over panes; `select` shows one. `onSelect` hears the user's choices (not `select` calls). */
export function tabs<K extends string>(panes: readonly (readonly [K, string, HTMLElement])[], onSelect: (key: K) => void): { element: HTMLElement; select(key: K): void; setBadge(key: K, text: string): void } {
  const buttons = new Map<K, HTMLButtonElement>();
  const badges = new Map<K, HTMLElement>();
  const select = (key: K): void => {
    for (const [name, button] of buttons) setAttr(button, 'aria-selected', String(name === key));
    for (const [name, , pane] of panes) pane.hidden = name !== key;
  };
  const strip = h('div', { class: 'tabs', role: 'tablist' });
  for (const [key, label] of panes) {
    const badge = h('span', { class: 'tab-badge' });
    badges.set(key, badge);
    const button = h(
      'button',
      {
        type: 'button',
        class: 'tab',
        role: 'tab',
        'data-testid': `tab-${key}`,
        onclick: () => {
          select(key);
          onSelect(key);
        },
      },
      label,
      badge,
    );
    buttons.set(key, button);
    strip.append(button);
  }
  for (const [key, , pane] of panes) {
    pane.classList.add('tab-pane');
    setAttr(pane, 'role', 'tabpanel');
    setAttr(pane, 'data-pane', key);
    pane.hidden = true;
  }
  const element = h('div', { class: 'tabbed' }, strip, ...panes.map(([, , pane]) => pane));
  return {
    element,
    select,
    setBadge(key, text) {
      const badge = badges.get(key);
      if (badge && badge.textContent !== text) badge.textContent = text;
    },
  };
}
