import { s } from './dom.js';

/** Small line icons drawn inline (the page's fonts may lack symbol glyphs). */
const PATHS = {
  copy: 'M9 9h10v10H9zM5 15V5h10',
  close: 'M6 6l12 12M18 6L6 18',
  back: 'M15 5l-7 7 7 7',
  lock: 'M6 11h12v9H6zM8.5 11V8a3.5 3.5 0 0 1 7 0v3',
} as const;

/** An icon by name, 16 px, stroked in the text colour. */
export function icon(name: keyof typeof PATHS): SVGSVGElement {
  return s('svg', { class: 'icon', viewBox: '0 0 24 24', width: 16, height: 16, 'aria-hidden': 'true' }, s('path', { d: PATHS[name] }));
}
