import type { JobSnapshot } from '../../job.js';
import { h, replaceChildren, type Child } from './dom.js';
import { formatDuration, formatRelative, formatTime, shortId, timeOf } from './format.js';

/** A time as "12 s ago", its full date in the tooltip. */
function when(iso: string, now: number): HTMLElement {
  return h('time', { datetime: iso, title: formatTime(iso) }, formatRelative(iso, now));
}

/** The facts of a job as a definition list: times, durations, try, priority, tenant, links to related jobs. */
export function factsView(onOpenJob: (id: string) => void): { element: HTMLElement; show(job: JobSnapshot, now: number): void } {
  const element = h('dl', { class: 'facts', 'data-testid': 'facts' });
  return {
    element,
    show(job, now) {
      const rows: [string, Child][] = [];
      const add = (label: string, value: Child): void => {
        if (value !== undefined && value !== '') rows.push([label, value]);
      };
      const created = timeOf(job.createdAt);
      const started = timeOf(job.startedAt);
      const finished = timeOf(job.finishedAt);
      add('Created', when(job.createdAt, now));
      if (job.startedAt !== undefined) add('Started', when(job.startedAt, now));
      if (job.finishedAt !== undefined) add('Finished', when(job.finishedAt, now));
      if (!Number.isNaN(started)) add(Number.isNaN(finished) ? 'Running for' : 'Ran for', formatDuration((Number.isNaN(finished) ? now : finished) - started));
      // The wait of the try that ran last; a job cancelled while queued waited until then.
      const waitedUntil = !Number.isNaN(started) ? started : !Number.isNaN(finished) ? finished : now;
      if (job.attempt === 1) add(Number.isNaN(started) && Number.isNaN(finished) ? 'Waiting for' : 'Waited', formatDuration(waitedUntil - created));
      add('Try', `${job.attempt} of ${job.maxAttempts}`);
      if (job.runAt !== undefined && job.status === 'queued') add('Starts', when(job.runAt, now));
      add('Priority', String(job.priority));
      add('Tenant', job.tenantId);
      add('Workspace', job.workspaceId);
      if (job.retryOf !== undefined) {
        const of = job.retryOf;
        add('Re-run of', h('button', { type: 'button', class: 'link-btn mono', 'data-testid': 'retry-of', title: of, onclick: () => onOpenJob(of) }, shortId(of)));
      }
      add('Schedule', job.scheduleKey);
      if (job.expiresAt !== undefined) add('Removed', when(job.expiresAt, now));
      replaceChildren(element, ...rows.flatMap(([label, value]) => [h('dt', {}, label), h('dd', {}, value)]));
    },
  };
}
