import type { JobErrorInfo } from '../../errors.js';
import type { JobStatusEvent } from '../../job.js';
import { h, replaceChildren } from './dom.js';
import { formatDuration, timeOf } from './format.js';

/** One try of a job, as its events tell it. */
interface Attempt {
  n: number;
  startedAt?: string;
  endedAt?: string;
  outcome: 'running' | 'failed' | 'completed' | 'cancelled' | 'waiting';
  error?: JobErrorInfo;
}

/**
 * The tries of a job, from its events: `started` opens try n, `retrying` closes it as failed (its
 * error is the next snapshot's `lastError`), a terminal event closes the last one.
 */
export function attemptsOf(events: readonly JobStatusEvent[]): Attempt[] {
  const attempts = new Map<number, Attempt>();
  for (const { type, at, job } of events) {
    if (type === 'started') attempts.set(job.attempt, { n: job.attempt, startedAt: at, outcome: 'running' });
    else if (type === 'retrying') {
      const last = attempts.get(job.attempt - 1) ?? { n: job.attempt - 1, outcome: 'failed' };
      attempts.set(last.n, { ...last, endedAt: at, outcome: 'failed', ...(job.lastError && { error: job.lastError }) });
      attempts.set(job.attempt, { n: job.attempt, outcome: 'waiting' });
    } else if (type === 'completed' || type === 'failed' || type === 'cancelled') {
      const last = attempts.get(job.attempt) ?? { n: job.attempt, outcome: type };
      attempts.set(last.n, { ...last, endedAt: at, outcome: type, ...(job.error && { error: job.error }) });
    }
  }
  return [...attempts.values()].sort((a, b) => a.n - b.n);
}

/** The tries as a compact list; shown when a job has more than one. */
export function attemptsView(): { element: HTMLElement; show(events: readonly JobStatusEvent[], maxAttempts: number, now: number): void } {
  const list = h('ol', { class: 'attempts', 'data-testid': 'attempts' });
  const element = h('div', { class: 'attempts-wrap' }, h('h3', { class: 'subhead' }, 'Tries'), list);
  element.hidden = true;
  return {
    element,
    show(events, maxAttempts, now) {
      const attempts = attemptsOf(events);
      element.hidden = maxAttempts <= 1 && attempts.length <= 1;
      if (element.hidden) return;
      replaceChildren(
        list,
        ...attempts.map((attempt) => {
          const end = attempt.endedAt === undefined ? now : timeOf(attempt.endedAt);
          const took = attempt.startedAt === undefined ? '' : formatDuration(end - timeOf(attempt.startedAt));
          return h(
            'li',
            { class: 'attempt', 'data-outcome': attempt.outcome },
            h('span', { class: 'attempt-n' }, `#${attempt.n}`),
            h('span', { class: 'attempt-outcome' }, attempt.outcome),
            h('span', { class: 'attempt-took' }, took),
            attempt.error ? h('span', { class: 'attempt-error' }, attempt.error.message) : null,
          );
        }),
      );
    },
  };
}
