// @vitest-environment happy-dom
import { act, cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { createElement as h, StrictMode, type ReactElement } from 'react';
import { afterEach, describe, expect, it } from 'vitest';
import { JobClientProvider, useJob, useSubmit } from '../../src/react/index.js';
import { deferred, type Deferred } from '../helpers/deferred.js';
import { startJobwireApp, type JobwireApp } from './jobwire-app.js';

// waitFor's bound (it waits for a state, polling): generous, since it only matters when something is wrong on a loaded machine.
configure({ asyncUtilTimeout: 10_000 });

/**
 * Submits `echo` jobs of the texts on its buttons (pushing each text to `answered` once its submit
 * settled), and follows the last one with `useJob` (its result typed from the plugin).
 */
function EchoForm({ texts, answered }: { texts: string[]; answered: string[] }): ReactElement {
  const { submit, job, error, pending } = useSubmit('echo');
  const live = useJob(job);
  return h(
    'section',
    null,
    ...texts.map((text) => h('button', { key: text, onClick: () => void submit({ text }).then(() => answered.push(text)) }, `Submit ${JSON.stringify(text)}`)),
    h('p', { 'data-testid': 'pending' }, String(pending)),
    h('p', { 'data-testid': 'submitted' }, job === undefined ? '' : `${job.plugin} ${job.status} ${job.input.text}`),
    h('p', { 'data-testid': 'error' }, error === undefined ? '' : `${error.code} ${JSON.stringify(error.details)}`),
    h('p', { 'data-testid': 'live' }, live.job?.status ?? ''),
    h('p', { 'data-testid': 'result' }, live.job?.result?.text ?? ''),
  );
}

/** The fetches that `hold` picks, each held until the test lets it go (in any order). */
function heldRequests(hold: (url: string, init: RequestInit | undefined) => boolean): { fetch: typeof fetch; held: Deferred[] } {
  const held: Deferred[] = [];
  return {
    held,
    fetch: async (input, init) => {
      if (hold(String(input), init)) {
        const gate = deferred();
        held.push(gate);
        await gate.promise;
      }
      return fetch(input, init);
    },
  };
}

describe('useSubmit against a jobwire server', () => {
  let app: JobwireApp;

  afterEach(async () => {
    cleanup();
    await app.close();
  });

  const answered: string[] = [];
  const text = (id: string): string | null => screen.getByTestId(id).textContent;
  const form = (texts: string[], strict = false): ReactElement => {
    answered.length = 0;
    const tree = h(JobClientProvider, { client: app.client }, h(EchoForm, { texts, answered }));
    return strict ? h(StrictMode, null, tree) : tree;
  };

  it('submits a job of its plugin, once per click under StrictMode; useJob follows it to its result', async () => {
    app = await startJobwireApp();
    render(form(['hello'], true));
    expect(text('pending')).toBe('false');
    fireEvent.click(screen.getByText('Submit "hello"'));
    await waitFor(() => expect(text('submitted')).toBe('echo queued hello'));
    await waitFor(() => expect(text('result')).toBe('HELLO'));
    expect(text('pending')).toBe('false');
    expect((await app.tracker.list()).jobs).toHaveLength(1);
  });

  it('input the plugin refuses is INVALID_INPUT with the issues in details; nothing is submitted', async () => {
    app = await startJobwireApp();
    render(form(['']));
    fireEvent.click(screen.getByText('Submit ""'));
    await waitFor(() => expect(text('error')).toMatch(/^INVALID_INPUT /));
    expect(JSON.stringify(JSON.parse(text('error')!.slice('INVALID_INPUT '.length)))).toContain('"text"');
    expect(text('submitted')).toBe('');
    expect(text('pending')).toBe('false');
    expect((await app.tracker.list()).jobs).toHaveLength(0);
  });

  it('pending while the request is out; only the last submit is shown when an earlier one answers later', async () => {
    const posts = heldRequests((_url, init) => init?.method === 'POST');
    app = await startJobwireApp({ fetch: posts.fetch });
    render(form(['first', 'second']));
    fireEvent.click(screen.getByText('Submit "first"'));
    await waitFor(() => expect(text('pending')).toBe('true'));
    fireEvent.click(screen.getByText('Submit "second"'));
    await waitFor(() => expect(posts.held).toHaveLength(2));

    posts.held[1]!.resolve();
    await waitFor(() => expect(text('submitted')).toBe('echo queued second'));
    expect(text('pending')).toBe('false');
    posts.held[0]!.resolve();
    await waitFor(() => expect(answered).toEqual(['second', 'first']));
    await act(async () => {}); // render whatever the late answer changed
    expect((await app.tracker.list()).jobs).toHaveLength(2);
    await waitFor(() => expect(text('result')).toBe('SECOND'));
    expect(text('submitted')).toBe('echo queued second');
  });

  it('useJob of the submitted job shows its snapshot until the stream answers', async () => {
    const streams = heldRequests((url) => url.endsWith('/events'));
    app = await startJobwireApp({ fetch: streams.fetch });
    render(form(['hello']));
    fireEvent.click(screen.getByText('Submit "hello"'));
    await waitFor(() => expect(streams.held).toHaveLength(1));
    expect(text('live')).toBe('queued');
    expect(text('result')).toBe('');
    streams.held[0]!.resolve();
    await waitFor(() => expect(text('result')).toBe('HELLO'));
    expect(text('live')).toBe('completed');
  });
});
