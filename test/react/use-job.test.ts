// @vitest-environment happy-dom
import { act, cleanup, configure, fireEvent, render, screen, waitFor } from '@testing-library/react';
import { Activity, createElement as h, StrictMode, type ReactElement } from 'react';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countOpenStreams } from '../../src/sse/index.js';
import { JobClientProvider } from '../../src/react/index.js';
import { JobPanel } from './job-panel.js';
import { startJobwireApp, type JobwireApp } from './jobwire-app.js';

// waitFor's bound (it waits for a state, polling): generous, since it only matters when something is wrong on a loaded machine.
configure({ asyncUtilTimeout: 10_000 });

describe('useJob against a jobwire server', () => {
  let app: JobwireApp;

  beforeEach(async () => {
    app = await startJobwireApp();
  });
  afterEach(async () => {
    cleanup();
    await app.close();
  });

  const text = (id: string): string | null => screen.getByTestId(id).textContent;
  const panel = (id: string | undefined, strict = false): ReactElement => {
    const tree = h(JobClientProvider, { client: app.client }, h(JobPanel, { id }));
    return strict ? h(StrictMode, null, tree) : tree;
  };

  it('shows live progress, output as it is written, and the result', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    render(panel(job.id));
    await waitFor(() => expect(text('status')).toBe('running 0'));
    expect(text('id')).toBe(job.id);

    run.ctx.progress(40, 'loading model');
    await waitFor(() => expect(text('status')).toBe('running 40 loading model'));
    run.ctx.write('Hello, ');
    await waitFor(() => expect(text('text')).toBe('Hello, '));
    run.ctx.write({ segment: 1 });
    run.ctx.write('world');
    await waitFor(() => expect(text('chunks')).toBe(JSON.stringify(['Hello, ', { segment: 1 }, 'world'])));
    expect(text('text')).toBe('Hello, world'); // JSON chunks are in chunks only
    expect(text('gap')).toBe('false');

    run.done.resolve({ words: 2 });
    await waitFor(() => expect(text('status')).toBe('completed 100 loading model'));
    expect(text('result')).toBe('{"words":2}');
    // The server ends the stream after the terminal event; the hook does not reconnect.
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(0));
    expect(app.streams).toHaveLength(1);
  });

  it('closes the stream on the server when the component unmounts; the job goes on', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    const { unmount } = render(panel(job.id));
    run.ctx.write('partial');
    await waitFor(() => expect(text('text')).toBe('partial'));
    expect(countOpenStreams(app.tracker)).toBe(1);

    unmount();
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(0));
    expect((await app.tracker.get(job.id))?.status).toBe('running');
  });

  it('under StrictMode holds one stream and shows each chunk once', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    const { unmount } = render(panel(job.id, true));
    run.ctx.write('a');
    await waitFor(() => expect(text('text')).toBe('a'));
    run.ctx.write('b');
    await waitFor(() => expect(text('text')).toBe('ab'));
    // The effect ran twice; the first run's stream (if its request got out at all) is closed.
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(1));
    expect(text('chunks')).toBe(JSON.stringify(['a', 'b']));

    unmount();
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(0));
  });

  it('hidden in an <Activity>, closes its stream; shown again, resumes after the last event it showed', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    const shown = (mode: 'visible' | 'hidden'): ReactElement => h(Activity, { mode, children: panel(job.id) });
    const { rerender } = render(shown('visible'));
    run.ctx.write('before ');
    await waitFor(() => expect(text('text')).toBe('before '));
    const seen = (await app.tracker.output(job.id)).lastSeq;

    rerender(shown('hidden'));
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(0));
    run.ctx.write('while hidden ');
    rerender(shown('visible'));
    await waitFor(() => expect(text('text')).toBe('before while hidden '));
    expect(app.streams.map((stream) => stream.lastEventId)).toEqual([undefined, String(seen)]);
    run.ctx.write('after');
    await waitFor(() => expect(text('text')).toBe('before while hidden after'));
    expect(countOpenStreams(app.tracker)).toBe(1);
  });

  it('resumes after a dropped connection from the last event seen: reconnecting meanwhile, no output repeated, none lost', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    render(panel(job.id));
    run.ctx.write('one ');
    await waitFor(() => expect(text('text')).toBe('one '));
    expect(text('reconnecting')).toBe('false');
    const seen = (await app.tracker.output(job.id)).lastSeq;

    app.refuseStreams = true;
    app.dropConnections();
    await waitFor(() => expect(text('reconnecting')).toBe('true'));
    run.ctx.write('two '); // while the client is away: replayed when it is back
    await waitFor(() => expect(app.streams.length).toBeGreaterThan(2)); // refused at least once more
    app.refuseStreams = false;
    await waitFor(() => expect(text('text')).toBe('one two '));
    expect(text('reconnecting')).toBe('false');
    expect(app.streams.slice(1).map((stream) => stream.lastEventId)).toEqual(app.streams.slice(1).map(() => String(seen)));
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(1));

    run.ctx.write('three');
    await waitFor(() => expect(text('text')).toBe('one two three'));
    run.done.resolve(null);
    await waitFor(() => expect(text('status')).toBe('completed 100'));
    expect(text('chunks')).toBe(JSON.stringify(['one ', 'two ', 'three']));
    expect(text('error')).toBe('');
  });

  it('cancel() cancels the job on the server, and the stream shows it', async () => {
    const job = await app.tracker.submit('controlled', {});
    await app.control.started(job.id);
    render(panel(job.id));
    await waitFor(() => expect(text('status')).toBe('running 0'));

    fireEvent.click(screen.getByText('Cancel'));
    await waitFor(() => expect(text('status')).toBe('cancelled 0'));
    const cancelled = await app.tracker.get(job.id);
    expect(cancelled?.status).toBe('cancelled');
    expect(cancelled?.error?.message).toBe('stopped by the user');
    expect(text('error')).toBe('');
  });

  it('retry() re-runs a failed job and follows the new one', async () => {
    const job = await app.tracker.submit('controlled', {});
    const first = await app.control.started(job.id);
    render(panel(job.id));
    first.ctx.write('first try');
    await waitFor(() => expect(text('text')).toBe('first try'));
    first.done.reject(new Error('boom'));
    await waitFor(() => expect(text('status')).toBe('failed 0'));

    fireEvent.click(screen.getByText('Retry'));
    await waitFor(() => expect(text('id')).not.toBe(job.id));
    const retried = await app.tracker.get(text('id')!);
    expect(retried?.retryOf).toBe(job.id);
    expect(text('text')).toBe(''); // the old job's output is not the new one's

    const second = await app.control.started(retried!.id);
    second.ctx.write('second try');
    second.done.resolve({ ok: true });
    await waitFor(() => expect(text('status')).toBe('completed 100'));
    expect(text('text')).toBe('second try');
    expect(text('result')).toBe('{"ok":true}');
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(0));
  });

  it('a failed retry (the job is still running) shows its error, and the job goes on', async () => {
    const job = await app.tracker.submit('controlled', {});
    const run = await app.control.started(job.id);
    render(panel(job.id));
    await waitFor(() => expect(text('status')).toBe('running 0'));

    fireEvent.click(screen.getByText('Retry'));
    await waitFor(() => expect(text('error')).toMatch(/^INVALID_REQUEST: /));
    expect(text('id')).toBe(job.id);
    run.ctx.write('still here');
    await waitFor(() => expect(text('text')).toBe('still here'));
  });

  it('switches jobs when the id changes: the old stream closes, nothing of the old job shows', async () => {
    const a = await app.tracker.submit('controlled', {});
    const b = await app.tracker.submit('controlled', {});
    const runA = await app.control.started(a.id);
    const runB = await app.control.started(b.id);
    runA.ctx.write('from A');
    runB.ctx.write('from B');
    const { rerender } = render(panel(a.id));
    await waitFor(() => expect(text('text')).toBe('from A'));

    rerender(panel(b.id));
    await waitFor(() => expect(text('text')).toBe('from B'));
    expect(text('id')).toBe(b.id);
    await waitFor(() => expect(countOpenStreams(app.tracker)).toBe(1));
    runA.ctx.write(' and more');
    runB.ctx.write(' and more');
    await waitFor(() => expect(text('text')).toBe('from B and more'));
  });

  it('an unknown job is JOB_NOT_FOUND; no id follows nothing', async () => {
    const { rerender } = render(panel('AAAAAAAAAAAAAAAAAAAAAA'));
    await waitFor(() => expect(text('error')).toMatch(/^JOB_NOT_FOUND: /));
    expect(text('status')).toBe('none');

    rerender(panel(undefined));
    expect(text('error')).toBe('');
    expect(text('status')).toBe('none');
    const requests = app.streams.length;
    await act(async () => fireEvent.click(screen.getByText('Cancel')));
    expect(app.streams).toHaveLength(requests);
    expect(countOpenStreams(app.tracker)).toBe(0);
  });

  it('needs a client: from the provider or its options', async () => {
    expect(() => render(h(JobPanel, { id: undefined }))).toThrow(/JobClientProvider/);
    const job = await app.tracker.submit('echo', { text: 'hi' });
    render(h(JobPanel, { id: job.id, client: app.client }));
    await waitFor(() => expect(text('result')).toBe('{"text":"HI"}'));
  });
});
