import type { JobSnapshot } from '../../job.js';
import { h, setAttr, setText } from './dom.js';
import { formatPercent } from './format.js';

/** A progress bar (`role=progressbar`) coloured by the job's status; `data-status` says which. */
export function progressBar(size: 'small' | 'large' = 'small'): HTMLDivElement {
  return h(
    'div',
    { class: `bar bar--${size}`, role: 'progressbar', 'aria-valuemin': 0, 'aria-valuemax': 100, 'aria-valuenow': 0 },
    h('div', { class: 'bar-fill' }),
  );
}

/** Show `job`'s progress in a bar made by {@link progressBar}. */
export function updateBar(bar: HTMLElement, job: JobSnapshot): void {
  const value = Math.round(Math.min(100, Math.max(0, job.progress)));
  setAttr(bar, 'aria-valuenow', String(value));
  setAttr(bar, 'data-status', job.status);
  const fill = bar.firstElementChild as HTMLElement | null;
  // Through the CSSOM, which the page's Content-Security-Policy allows (a style attribute it would not).
  if (fill && fill.style.width !== `${value}%`) fill.style.width = `${value}%`;
}

/** A bar with its percent beside it; `update` shows a job. */
export function progressWithLabel(): { element: HTMLDivElement; update(job: JobSnapshot): void } {
  const bar = progressBar();
  const percent = h('span', { class: 'progress-value', 'data-testid': 'progress-value' });
  const element = h('div', { class: 'progress' }, bar, percent);
  return {
    element,
    update(job) {
      updateBar(bar, job);
      setText(percent, formatPercent(job.progress));
    },
  };
}
