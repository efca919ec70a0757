import type { Refusal } from './api.js';
import { everySecond } from './clock.js';
import { h, replaceChildren, setAttr, setText } from './dom.js';
import { icon } from './icons.js';
import { jobRow, type JobRow } from './job-row.js';
import type { Store } from './store.js';

const COLUMNS: readonly [string, string][] = [
  ['status', 'Status'],
  ['job', 'Job'],
  ['progress', 'Progress'],
  ['tenant', 'Tenant'],
  ['attempt', 'Try'],
  ['created', 'Created'],
  ['duration', 'Duration'],
];

/** What the server said when it refused the list, for the jobs area. */
function refusalText(refusal: Refusal): string {
  const said = refusal.message === undefined ? '' : `: “${refusal.message}”`;
  return `The server refused to show these jobs${said} (${refusal.code}).`;
}

/**
 * The jobs table: one row per job in view, updated in place by live events; more pages on demand.
 * When the server refuses the list, the area says so once, with what to do and a Try again
 * (`retry`: the page asks for everything again).
 */
export function tableView(store: Store, actions: { open(id: string): void; loadMore(): void; retry(): void }): HTMLElement {
  const rows = new Map<string, JobRow>();
  const body = h('tbody', {});
  const empty = h('div', { class: 'empty', 'data-testid': 'empty' }, 'Loading jobs…');
  const error = h('div', { class: 'banner banner--error', 'data-testid': 'list-error', role: 'alert', hidden: true });
  const refusedWhy = h('p', { class: 'refused-why' });
  const refused = h(
    'div',
    { class: 'refused', 'data-testid': 'list-refused', role: 'alert', hidden: true },
    h('h3', { class: 'refused-title' }, icon('lock'), 'No access to these jobs'),
    refusedWhy,
    h('p', { class: 'refused-help' }, 'Ask whoever runs this dashboard for access, or sign in, then try again. If you may see only some jobs (one tenant’s), filter on those.'),
    h('button', { type: 'button', class: 'btn', 'data-testid': 'refused-retry', onclick: actions.retry }, 'Try again'),
  );
  /** The list could not be read: refused, or failed for another reason (the banner says why). */
  let problem: 'refused' | 'failed' | undefined;
  /** Nothing was read yet: the first list is on its way. */
  let first = true;
  const more = h('button', { type: 'button', class: 'btn btn--ghost', 'data-testid': 'load-more', hidden: true, onclick: actions.loadMore }, 'Load more');
  const count = h('span', { class: 'section-note', 'data-testid': 'job-count' });
  const table = h(
    'table',
    { class: 'jobs', 'data-testid': 'jobs' },
    h('thead', {}, h('tr', {}, ...COLUMNS.map(([key, label]) => h('th', { class: `c-${key}`, scope: 'col' }, label)))),
    body,
  );
  const wrap = h('div', { class: 'table-wrap', hidden: true }, table);
  const section = h('section', { class: 'section list', 'aria-label': 'Jobs' }, h('div', { class: 'section-head' }, h('h2', {}, 'Jobs'), count), error, refused, wrap, empty, h('div', { class: 'list-foot' }, more));

  const rowOf = (id: string): JobRow | undefined => {
    const job = store.jobs.get(id);
    if (!job) return undefined;
    let row = rows.get(id);
    if (row) row.update(job, Date.now());
    else rows.set(id, (row = jobRow(job, (plugin) => store.pluginTitle(plugin), actions.open)));
    setAttr(row.element, 'aria-selected', String(store.selected === id));
    return row;
  };
  const footer = (): void => {
    const n = store.order.length;
    const shut = problem === 'refused';
    more.hidden = store.nextCursor === undefined || shut;
    setText(count, n === 0 || shut ? '' : `${n}${store.nextCursor === undefined ? '' : '+'} job${n === 1 ? '' : 's'}`);
    const filtered = store.filters.status !== 'all' || store.filters.plugin !== '' || store.filters.tenant !== '';
    // "Loading" only until the first answer; after a failure the banner says why, after a refusal the notice.
    empty.hidden = n > 0 || problem !== undefined;
    setText(empty, first ? 'Loading jobs…' : filtered ? 'No jobs match these filters.' : 'No jobs yet. Jobs appear here as they are submitted.');
    wrap.hidden = n === 0 || shut;
  };

  store.on('reset', () => {
    first = false;
    const next = store.order.map(rowOf).filter((row): row is JobRow => row !== undefined);
    for (const id of rows.keys()) if (!store.jobs.has(id)) rows.delete(id);
    replaceChildren(body, ...next.map((row) => row.element));
    footer();
  });
  store.on('job', (job, index) => {
    const row = rowOf(job.id);
    if (!row) return;
    if (index !== undefined) {
      body.insertBefore(row.element, body.children[index] ?? null);
      row.element.classList.add('row--new');
      footer();
    }
  });
  store.on('remove', (id) => {
    rows.get(id)?.element.remove();
    rows.delete(id);
    footer();
  });
  store.on('select', (id) => {
    for (const [rowId, row] of rows) setAttr(row.element, 'aria-selected', String(rowId === id));
  });
  store.on('plugins', () => {
    for (const id of rows.keys()) rowOf(id);
  });
  store.on('loading', (loading) => {
    section.classList.toggle('is-loading', loading);
    setAttr(more, 'disabled', loading ? '' : undefined);
  });
  store.on('listError', (message) => {
    if (message !== undefined) {
      first = false;
      problem = 'failed';
    } else if (problem === 'failed') problem = undefined;
    error.hidden = problem !== 'failed';
    setText(error, message ?? '');
    footer();
  });
  store.on('access', (area, refusal) => {
    if (area !== 'list') return;
    if (refusal) {
      first = false;
      problem = 'refused';
      error.hidden = true;
    } else if (problem === 'refused') problem = undefined;
    refused.hidden = refusal === undefined;
    setText(refusedWhy, refusal ? refusalText(refusal) : '');
    footer();
  });
  everySecond((now) => {
    for (const row of rows.values()) row.tick(now);
  });
  return section;
}
