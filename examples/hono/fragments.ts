/**
 * The HTML of the htmx page: a job's card, and one fragment per job event (`serialize` of the
 * events route). Status events replace the job's state line; `output` and `gap` events are
 * appended to its transcript. The event that ends a job also takes its Cancel button away.
 */
import { isTerminalStatus, type JobEvent, type JobSnapshot } from 'jobwire';

/** Escape text for HTML (element content and quoted attributes). */
export const escape = (text: string): string => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Seconds as m:ss.s. */
const clock = (seconds: number): string => `${Math.floor(seconds / 60)}:${(seconds % 60).toFixed(1).padStart(4, '0')}`;

/** A chunk the transcriber writes: `{ start, end, text }`, times in seconds. */
function isSegment(chunk: unknown): chunk is { start: number; end: number; text: string } {
  const value = chunk as { start?: unknown; end?: unknown; text?: unknown } | null;
  return typeof value === 'object' && value !== null && typeof value.start === 'number' && typeof value.end === 'number' && typeof value.text === 'string';
}

/** One chunk of output as HTML: a transcript segment with its time, a run of text, or the JSON of anything else. */
function outputFragment(chunk: unknown): string {
  if (isSegment(chunk)) return `<p class="segment"><span class="time">${clock(chunk.start)}</span> ${escape(chunk.text)}</p>`;
  if (typeof chunk === 'string') return `<span class="text">${escape(chunk)}</span>`;
  return `<pre>${escape(JSON.stringify(chunk))}</pre>`;
}

/**
 * The `serialize` of the htmx page's events route: every job event as a fragment of HTML. Line
 * breaks in it are safe (each line becomes a `data:` line, and the client joins them back).
 */
export function eventFragment(event: JobEvent): string {
  switch (event.type) {
    case 'output':
      return outputFragment(event.chunk);
    case 'gap':
      return `<p class="gap">… earlier output was dropped (past the job's output limit) …</p>`;
    default: {
      const { job } = event; // a status event: it carries the job's snapshot
      const message = job.error ? `${job.error.code}: ${job.error.message}` : (job.message ?? '');
      const state = `<span class="status" data-status="${job.status}">${job.status}</span> <progress max="100" value="${job.progress}"></progress> <span class="message">${escape(message)}</span>`;
      // An ending also takes the card's Cancel button away: an out-of-band swap, by the button's id.
      return isTerminalStatus(job.status) ? `${state}\n${noCancel(job.id, true)}` : state;
    }
  }
}

/** The id of a job's Cancel button: the event that ends the job swaps it out of band by this id. */
const cancelId = (jobId: string): string => `cancel-${jobId}`;

/**
 * What stands for Cancel once a job has ended: a hidden, disabled button with the same id, so that
 * the swap of a replayed ending finds its target again. `outOfBand`: as an ending event sends it.
 */
function noCancel(jobId: string, outOfBand: boolean): string {
  return `<button id="${cancelId(jobId)}" data-testid="cancel"${outOfBand ? ' hx-swap-oob="true"' : ''} hidden disabled>Cancel</button>`;
}

/** A job's Cancel button: offered while the job may still change (queued or running), not once it has ended. */
function cancelButton(job: JobSnapshot, basePath: string): string {
  if (isTerminalStatus(job.status)) return noCancel(job.id, false);
  return `<button id="${cancelId(job.id)}" data-testid="cancel" hx-post="${basePath}/${job.id}/cancel" hx-swap="none">Cancel</button>`;
}

/** The names of the status events, which the state line swaps in. */
const STATUS_EVENTS = 'queued,started,progress,retrying,completed,failed,cancelled';

/**
 * A job's card: it follows the job over SSE (a replay from its first event, then live) and closes
 * on the `end` event the route sends after any ending. Cancel is offered while the job may still
 * change. Ids are URL-safe: nothing to escape.
 */
export function jobCard(job: JobSnapshot, basePath: string): string {
  return `<article class="job" data-job-id="${job.id}" data-testid="job">
  <header><code>${job.id.slice(0, 8)}</code> ${escape(job.plugin)} ${cancelButton(job, basePath)}</header>
  <div hx-ext="sse" sse-connect="${basePath}/${job.id}/events" sse-close="end">
    <div class="state" sse-swap="${STATUS_EVENTS}"><span class="status" data-status="${job.status}">${job.status}</span></div>
    <div class="transcript" data-testid="transcript" sse-swap="output,gap" hx-swap="beforeend"></div>
  </div>
</article>`;
}
