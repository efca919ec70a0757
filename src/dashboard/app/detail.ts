import { isJobwireError } from '../../errors.js';
import type { JobSnapshot, JobStatusEvent } from '../../job.js';
import { describeFailure, type DashboardApi } from './api.js';
import { attemptsView } from './attempts.js';
import { everySecond } from './clock.js';
import { h, setAttr, setText } from './dom.js';
import { icon } from './icons.js';
import { factsView } from './facts.js';
import { shortId } from './format.js';
import { jsonView } from './json-view.js';
import { outputView } from './output-view.js';
import { progressBar, updateBar } from './progress.js';
import { canRerun, isLive, statusPill, updatePill } from './status.js';
import type { Store } from './store.js';
import { tabs } from './tabs.js';
import { timelineView } from './timeline.js';
import { toast } from './toast.js';

type Tab = 'timeline' | 'output' | 'input' | 'result' | 'metadata';

/** What the panel asks of the page. */
export interface DetailActions {
  /** Show another job (a re-run, the job a re-run came from). */
  open(id: string): void;
  close(): void;
}

/**
 * The detail panel of the selected job: status, progress, facts, its error, its tries, and tabs with
 * the event timeline, the live output, the input, the result and the metadata; Cancel and Re-run.
 * It follows the job's own stream (`client.follow`) from the start of its log while it is open.
 */
export function detailView(store: Store, api: DashboardApi, actions: DetailActions): HTMLElement {
  let id: string | undefined;
  let job: JobSnapshot | undefined;
  let events: JobStatusEvent[] = [];
  let following: AbortController | undefined;
  let chosenTab = false;
  let frame: number | undefined;
  let busy = false;

  const title = h('h2', { class: 'detail-title', 'data-testid': 'detail-title' });
  const pill = statusPill();
  setAttr(pill, 'data-testid', 'detail-status');
  const idText = h('code', { class: 'detail-id mono', 'data-testid': 'detail-id' });
  const copy = h('button', { type: 'button', class: 'icon-btn', title: 'Copy the job id', 'aria-label': 'Copy the job id', onclick: () => copyId() }, icon('copy'));
  const raw = h('a', { class: 'link-btn', target: '_blank', rel: 'noopener', title: 'The job as JSON' }, 'JSON');
  const cancel = h('button', { type: 'button', class: 'btn btn--danger', 'data-testid': 'detail-cancel', onclick: () => void doCancel() }, 'Cancel');
  const rerun = h('button', { type: 'button', class: 'btn btn--primary', 'data-testid': 'detail-rerun', onclick: () => void doRerun() }, 'Re-run');
  const close = h('button', { type: 'button', class: 'icon-btn detail-close', 'data-testid': 'detail-close', 'aria-label': 'Close', title: 'Close (Esc)', onclick: () => actions.close() }, icon('close'));
  const back = h('button', { type: 'button', class: 'link-btn detail-back', onclick: () => actions.close() }, icon('back'), 'Jobs');
  const bar = progressBar('large');
  const percent = h('span', { class: 'detail-percent', 'data-testid': 'detail-progress' });
  const line = h('p', { class: 'detail-line', 'data-testid': 'detail-message' });
  const errorCode = h('span', { class: 'callout-code' });
  const errorText = h('span', { class: 'callout-text' });
  const errorBox = h('div', { class: 'callout', 'data-testid': 'detail-error', role: 'note' }, errorCode, errorText);
  const notice = h('div', { class: 'banner', 'data-testid': 'detail-notice', role: 'alert' });
  const facts = factsView((other) => actions.open(other));
  const attempts = attemptsView();
  const timeline = timelineView();
  const output = outputView();
  const input = jsonView('detail-input');
  const result = jsonView('detail-result');
  const metadata = jsonView('detail-metadata');
  const tabStrip = tabs<Tab>(
    [
      ['timeline', 'Timeline', h('div', {}, attempts.element, timeline.element)],
      ['output', 'Output', output.element],
      ['input', 'Input', input.element],
      ['result', 'Result', result.element],
      ['metadata', 'Metadata', metadata.element],
    ],
    () => (chosenTab = true),
  );

  const body = h(
    'div',
    { class: 'detail-body' },
    h('div', { class: 'detail-progress' }, bar, percent),
    line,
    errorBox,
    h('div', { class: 'detail-actions' }, cancel, rerun),
    facts.element,
    tabStrip.element,
  );
  const element = h(
    'aside',
    { class: 'detail', 'data-testid': 'detail', 'aria-label': 'Job detail', hidden: true },
    h(
      'header',
      { class: 'detail-head' },
      back,
      h('div', { class: 'detail-heading' }, h('div', { class: 'detail-title-row' }, title, pill), h('div', { class: 'detail-id-row' }, idText, copy, raw)),
      close,
    ),
    notice,
    body,
  );

  function copyId(): void {
    if (id === undefined) return;
    navigator.clipboard?.writeText(id).then(
      () => toast('Job id copied'),
      () => toast('Could not copy the id', 'error'),
    );
  }

  function showNotice(message: string | undefined): void {
    notice.hidden = message === undefined;
    setText(notice, message ?? '');
  }

  function render(): void {
    frame = undefined;
    if (!job) {
      body.hidden = true;
      pill.hidden = true;
      return;
    }
    const now = Date.now();
    body.hidden = false;
    pill.hidden = false;
    setText(title, store.pluginTitle(job.plugin));
    setAttr(title, 'title', job.plugin);
    updatePill(pill, job, now);
    updateBar(bar, job);
    setText(percent, `${Math.round(job.progress)}%`);
    const failure = job.status === 'failed' || job.status === 'cancelled' ? job.error : job.status === 'queued' ? job.lastError : undefined;
    // A failure is in the callout below; the line keeps the last progress message.
    setText(line, failure ? '' : (job.message ?? ''));
    errorBox.hidden = failure === undefined;
    if (failure) {
      setAttr(errorBox, 'data-tone', job.status === 'failed' ? 'error' : 'warn');
      setText(errorCode, failure.code);
      setText(errorText, job.status === 'queued' ? `Try ${job.attempt - 1} failed: ${failure.message}` : failure.message);
    }
    cancel.hidden = !isLive(job.status);
    rerun.hidden = !canRerun(job.status);
    cancel.disabled = busy;
    rerun.disabled = busy;
    facts.show(job, now);
    attempts.show(events, job.maxAttempts, now);
    input.show(job.input, 'No input.');
    result.show(job.result, job.status === 'completed' ? 'The job returned nothing.' : job.status === 'failed' || job.status === 'cancelled' ? `No result: the job ${job.status}.` : 'No result yet.');
    metadata.show(Object.keys(job.metadata).length === 0 ? undefined : job.metadata, 'No metadata.');
    tabStrip.setBadge('timeline', events.length > 0 ? String(events.length) : '');
  }

  /** Render on the next frame: a burst of events (a replay, fast progress) paints once. */
  function schedule(): void {
    frame ??= requestAnimationFrame(render);
  }

  async function follow(jobId: string, signal: AbortSignal): Promise<void> {
    try {
      const options = {
        signal,
        onOpen: () => showNotice(undefined),
        onError: () => showNotice('Connection lost: reconnecting…'),
      };
      for await (const event of api.client.follow(jobId, options)) {
        if (event.type === 'output' || event.type === 'gap') {
          output.add(event);
          if (!chosenTab && event.type === 'output') {
            chosenTab = true; // a job that writes output: its output is what to watch
            tabStrip.select('output');
          }
        } else {
          events.push(event);
          timeline.add(event);
          job = event.job;
        }
        schedule();
      }
    } catch (error) {
      if (signal.aborted) return;
      if (following?.signal === signal) following = undefined; // the list's events keep the panel going
      if (isJobwireError(error) && error.code === 'JOB_NOT_FOUND') {
        showNotice('This job no longer exists: finished jobs are removed after their time to live.');
      } else showNotice(`Live updates stopped: ${describeFailure(error)}`);
    }
  }

  async function show(jobId: string | undefined): Promise<void> {
    following?.abort();
    following = undefined;
    id = jobId;
    element.hidden = jobId === undefined;
    if (jobId === undefined) return;
    job = store.jobs.get(jobId);
    events = [];
    chosenTab = false;
    busy = false;
    timeline.reset();
    output.reset();
    tabStrip.select('timeline');
    showNotice(undefined);
    setText(idText, jobId);
    setAttr(raw, 'href', `api/jobs/${encodeURIComponent(jobId)}`);
    setText(title, job ? store.pluginTitle(job.plugin) : 'Loading…');
    render();
    const controller = (following = new AbortController());
    if (!job) {
      try {
        job = await api.client.get(jobId);
      } catch (error) {
        if (controller.signal.aborted) return;
        showNotice(describeFailure(error));
        return;
      }
      if (controller.signal.aborted) return;
      if (!job) {
        setText(title, shortId(jobId));
        showNotice('This job no longer exists: finished jobs are removed after their time to live.');
        return;
      }
      render();
    }
    void follow(jobId, controller.signal);
  }

  async function doCancel(): Promise<void> {
    const jobId = id;
    if (jobId === undefined || busy) return;
    busy = true;
    render();
    try {
      const snapshot = await api.client.cancel(jobId, 'Cancelled from the dashboard');
      store.applyJob(snapshot);
      if (id === jobId) job = snapshot;
      toast(snapshot.status === 'cancelled' ? 'Job cancelled' : `Too late to cancel: the job ${snapshot.status}`);
    } catch (error) {
      toast(`Cancel failed: ${describeFailure(error)}`, 'error');
    } finally {
      busy = false;
      schedule();
    }
  }

  async function doRerun(): Promise<void> {
    const jobId = id;
    if (jobId === undefined || busy) return;
    busy = true;
    render();
    try {
      const snapshot = await api.client.retry(jobId);
      store.applyJob(snapshot);
      toast(`Re-running as ${shortId(snapshot.id)}`);
      actions.open(snapshot.id);
    } catch (error) {
      toast(`Re-run failed: ${describeFailure(error)}`, 'error');
    } finally {
      busy = false;
      schedule();
    }
  }

  store.on('select', (selected) => void show(selected));
  // The job's own stream tells the panel everything; the list's events help when that stream is gone.
  store.on('job', (changed) => {
    if (changed.id === id && following === undefined) {
      job = changed;
      schedule();
    }
  });
  everySecond(() => {
    if (job && id !== undefined) schedule();
  });
  showNotice(undefined);
  return element;
}
