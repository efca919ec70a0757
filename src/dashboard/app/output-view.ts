import type { JobGapEvent, JobOutputEvent } from '../../job.js';
import { h, setText } from './dom.js';

/** The most output text kept on the page; past it the oldest goes (the server keeps its own limit). */
const MAX_CHARS = 200_000;

/**
 * The job's output as it is written: string chunks as they are, JSON chunks one per line, and a
 * marker where output was dropped. Sticks to the bottom while the reader is there.
 */
export function outputView(): { element: HTMLElement; reset(): void; add(event: JobOutputEvent | JobGapEvent): void } {
  const pre = h('pre', { class: 'output', 'data-testid': 'output' });
  const empty = h('p', { class: 'muted', 'data-testid': 'output-empty' }, 'No output yet.');
  const element = h('div', { class: 'output-wrap' }, empty, pre);
  let chars = 0;

  const append = (node: Node, length: number): void => {
    const stick = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    pre.append(node);
    chars += length;
    while (chars > MAX_CHARS && pre.firstChild) {
      chars -= pre.firstChild.textContent?.length ?? 0;
      pre.firstChild.remove();
    }
    if (stick) pre.scrollTop = pre.scrollHeight;
  };

  return {
    element,
    reset() {
      pre.replaceChildren();
      chars = 0;
      pre.hidden = true;
      empty.hidden = false;
      setText(empty, 'No output yet.');
    },
    add(event) {
      pre.hidden = false;
      empty.hidden = true;
      if (event.type === 'gap') {
        const text = `… output dropped (${event.toSeq - event.fromSeq + 1} entries) …\n`;
        append(h('span', { class: 'output-gap' }, text), text.length);
        return;
      }
      const text = typeof event.chunk === 'string' ? event.chunk : `${JSON.stringify(event.chunk)}\n`;
      append(document.createTextNode(text), text.length);
    },
  };
}
