import type { JobSnapshot } from '../../job.js';
import { h, setAttr, setText } from './dom.js';
import { formatDuration, formatRelative, formatTime, shortId, timeOf } from './format.js';
import { progressWithLabel } from './progress.js';
import { statusPill, updatePill } from './status.js';

/** A row of the jobs table, updated in place as the job changes. */
export interface JobRow {
  element: HTMLTableRowElement;
  /** Show a newer snapshot. */
  update(job: JobSnapshot, now: number): void;
  /** Move relative times and running durations on. */
  tick(now: number): void;
}

/** The line under the progress bar: the error of a failed or cancelled job, else its last progress message. */
export function statusLine(job: JobSnapshot): string {
  if ((job.status === 'failed' || job.status === 'cancelled') && job.error) return job.error.message;
  if (job.status === 'queued' && job.lastError) return `Try ${job.attempt - 1} failed: ${job.lastError.message}`;
  return job.message ?? '';
}

/** How long the job ran (or has been running), or how long it has waited. */
export function durationText(job: JobSnapshot, now: number): string {
  const started = timeOf(job.startedAt);
  const finished = timeOf(job.finishedAt);
  if (!Number.isNaN(finished)) return formatDuration(finished - (Number.isNaN(started) ? timeOf(job.createdAt) : started));
  if (!Number.isNaN(started)) return formatDuration(now - started);
  if (job.runAt !== undefined && timeOf(job.runAt) > now) return formatRelative(job.runAt, now);
  return `waiting ${formatDuration(now - timeOf(job.createdAt))}`;
}

function cell(name: string, ...children: Node[]): HTMLTableCellElement {
  return h('td', { class: `c-${name}` }, ...children);
}

/** A row for `job`; activating it (click, Enter) calls `onOpen`. */
export function jobRow(job: JobSnapshot, title: (plugin: string) => string, onOpen: (id: string) => void): JobRow {
  const pill = statusPill();
  const name = h('span', { class: 'job-name' });
  const id = h('span', { class: 'job-id mono' });
  const retryOf = h('span', { class: 'job-badge', title: 'A re-run of another job' }, 're-run');
  const progress = progressWithLabel();
  const line = h('div', { class: 'job-line' });
  const tenant = h('span', { class: 'job-tenant' });
  const attempt = h('span', { class: 'job-attempt' });
  const created = h('time', { class: 'job-created' });
  const duration = h('span', { class: 'job-duration' });

  const element = h(
    'tr',
    {
      class: 'job-row',
      tabindex: 0,
      'data-testid': 'job-row',
      'data-job-id': job.id,
      onclick: () => onOpen(current.id),
      onkeydown: (event) => {
        if ((event as KeyboardEvent).key === 'Enter' || (event as KeyboardEvent).key === ' ') {
          event.preventDefault();
          onOpen(current.id);
        }
      },
    },
    cell('status', pill),
    cell('job', h('div', { class: 'job-head' }, name, retryOf), id),
    cell('progress', progress.element, line),
    cell('tenant', tenant),
    cell('attempt', attempt),
    cell('created', created),
    cell('duration', duration),
  );
  let current = job;

  const tick = (now: number): void => {
    updatePill(pill, current, now);
    setText(created, formatRelative(current.createdAt, now));
    setText(duration, durationText(current, now));
  };
  const update = (next: JobSnapshot, now: number): void => {
    current = next;
    setAttr(element, 'data-status', next.status);
    setText(name, title(next.plugin));
    setText(id, shortId(next.id));
    setAttr(id, 'title', next.id);
    retryOf.hidden = next.retryOf === undefined;
    progress.update(next);
    setText(line, statusLine(next));
    setAttr(line, 'title', statusLine(next) || undefined);
    setText(tenant, [next.tenantId, next.workspaceId].filter((part) => part !== undefined).join(' / ') || '—');
    setText(attempt, `${next.attempt}/${next.maxAttempts}`);
    setAttr(attempt, 'data-retried', next.attempt > 1 ? '' : undefined);
    setAttr(created, 'datetime', next.createdAt);
    setAttr(created, 'title', formatTime(next.createdAt));
    tick(now);
  };
  update(job, Date.now());
  return { element, update, tick };
}
