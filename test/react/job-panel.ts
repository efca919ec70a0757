import { createElement as h, type ReactElement } from 'react';
import { useJob, type AnyJobClient } from '../../src/react/index.js';

/** What a test renders: everything `useJob` returns, as text, and its two actions as buttons. */
export function JobPanel({ id, client }: { id: string | undefined; client?: AnyJobClient }): ReactElement {
  const { job, output, error, reconnecting, cancel, retry } = useJob(id, client === undefined ? {} : { client });
  return h(
    'section',
    null,
    h('p', { 'data-testid': 'id' }, job?.id ?? ''),
    h('p', { 'data-testid': 'status' }, job === undefined ? 'none' : `${job.status} ${job.progress}${job.message === undefined ? '' : ` ${job.message}`}`),
    h('pre', { 'data-testid': 'text' }, output.text),
    h('p', { 'data-testid': 'chunks' }, JSON.stringify(output.chunks)),
    h('p', { 'data-testid': 'gap' }, String(output.gap)),
    h('p', { 'data-testid': 'result' }, JSON.stringify(job?.result ?? null)),
    h('p', { 'data-testid': 'reconnecting' }, String(reconnecting)),
    h('p', { 'data-testid': 'error' }, error === undefined ? '' : `${error.code}: ${error.message}`),
    h('button', { onClick: () => void cancel('stopped by the user') }, 'Cancel'),
    h('button', { onClick: () => void retry() }, 'Retry'),
  );
}
