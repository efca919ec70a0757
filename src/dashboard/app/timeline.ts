import type { JobStatusEvent } from '../../job.js';
import { h, replaceChildren, setAttr, setText } from './dom.js';
import { formatClock, formatDuration, formatPercent, formatTime, timeOf } from './format.js';

/** What an event says beyond its type, in a line ('' when its type says it all). */
function describe(event: JobStatusEvent): string {
  const { job } = event;
  switch (event.type) {
    case 'queued':
      return job.runAt === undefined ? '' : `To start at ${formatTime(job.runAt)}`;
    case 'started':
      return job.maxAttempts > 1 ? `Try ${job.attempt} of ${job.maxAttempts}` : '';
    case 'progress':
      return job.message === undefined ? formatPercent(job.progress) : `${formatPercent(job.progress)} · ${job.message}`;
    case 'retrying':
      return `Try ${job.attempt - 1} failed${job.lastError ? `: ${job.lastError.message}` : ''} — next try ${job.runAt === undefined ? 'soon' : `at ${formatTime(job.runAt)}`}`;
    case 'completed': {
      const ran = timeOf(job.finishedAt) - timeOf(job.startedAt);
      return Number.isNaN(ran) ? '' : `In ${formatDuration(ran)}`;
    }
    case 'failed':
      return job.error ? `${job.error.message} (${job.error.code})` : '';
    case 'cancelled':
      return job.error?.message ?? '';
  }
}

/**
 * The job's status events, oldest first. A run of progress events is one line that counts them and
 * shows the latest, so a job that reports a thousand times stays readable.
 */
export function timelineView(): { element: HTMLElement; reset(): void; add(event: JobStatusEvent): void } {
  const list = h('ol', { class: 'timeline', 'data-testid': 'timeline' });
  const element = h('div', { class: 'timeline-wrap' }, list);
  let progressRun: { item: HTMLElement; text: HTMLElement; count: HTMLElement; n: number; from: number } | undefined;

  const item = (event: JobStatusEvent): { item: HTMLLIElement; text: HTMLElement } => {
    const said = describe(event);
    const text = h('span', { class: 'tl-text', hidden: said === '' }, said);
    const li = h(
      'li',
      { class: 'tl-item', 'data-type': event.type },
      h('span', { class: 'tl-dot', 'aria-hidden': 'true' }),
      h('div', { class: 'tl-body' }, h('div', { class: 'tl-head' }, h('span', { class: 'tl-type' }, event.type), h('time', { class: 'tl-time', datetime: event.at, title: formatTime(event.at) }, formatClock(event.at))), text),
    );
    return { item: li, text };
  };

  return {
    element,
    reset() {
      replaceChildren(list);
      progressRun = undefined;
    },
    add(event) {
      if (event.type === 'progress' && progressRun) {
        progressRun.n += 1;
        setText(progressRun.count, `×${progressRun.n}`);
        progressRun.text.hidden = false;
        setText(progressRun.text, `${formatPercent(progressRun.from)} → ${describe(event)}`);
        const time = progressRun.item.querySelector('time');
        if (time) {
          setAttr(time, 'datetime', event.at);
          setText(time, formatClock(event.at));
        }
        return;
      }
      const made = item(event);
      list.append(made.item);
      if (event.type === 'progress') {
        const count = h('span', { class: 'tl-count' });
        made.item.querySelector('.tl-head')?.insertBefore(count, made.item.querySelector('time'));
        progressRun = { item: made.item, text: made.text, count, n: 1, from: event.job.progress };
      } else progressRun = undefined;
    },
  };
}
