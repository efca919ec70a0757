import { h, replaceChildren } from './dom.js';
import { formatJson } from './format.js';

/** A JSON value shown as indented text, or a muted note when there is none. */
export function jsonView(testId: string): { element: HTMLElement; show(value: unknown, empty: string): void } {
  const element = h('div', { class: 'json-wrap', 'data-testid': testId });
  let shown: string | undefined;
  return {
    element,
    show(value, empty) {
      const text = formatJson(value);
      // Unchanged: leave the DOM (and the reader's selection in it) alone.
      if (shown === `${text}\u0000${empty}`) return;
      shown = `${text}\u0000${empty}`;
      if (value === undefined || text === '') replaceChildren(element, h('p', { class: 'muted' }, empty));
      else replaceChildren(element, h('pre', { class: 'code' }, text));
    },
  };
}
