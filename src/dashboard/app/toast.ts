import { h } from './dom.js';

let region: HTMLElement | undefined;

/** The place toasts appear: a polite live region, so screen readers announce them. */
export function toastRegion(): HTMLElement {
  region ??= h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite', 'data-testid': 'toasts' });
  return region;
}

/**
 * Show a short message for a few seconds: what an action did, or why it failed.
 * @example
 * ```ts
 * toast('Cancelled', 'ok');
 * ```
 */
export function toast(message: string, tone: 'ok' | 'error' = 'ok'): void {
  const item = h('div', { class: `toast toast--${tone}` }, message);
  toastRegion().append(item);
  setTimeout(() => item.remove(), tone === 'error' ? 8_000 : 4_000);
}
