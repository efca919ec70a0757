import { describe, expect, it, vi } from 'vitest';
import { JobwireError } from '../../src/errors.js';
import type { JobEvent, JobSnapshot, JobStatusEventType } from '../../src/job.js';
import { EMPTY_VIEW, JobFeed, NO_OUTPUT } from '../../src/react/job-feed.js';

const client = {};
const at = '2025-01-01T00:00:00.000Z';

function snapshot(status: JobSnapshot['status'], progress = 0): JobSnapshot {
  return { id: 'job', plugin: 'p', status, progress, input: {}, attempt: 1, maxAttempts: 1, metadata: {}, priority: 0, createdAt: at };
}
const status = (seq: number, type: JobStatusEventType, job: JobSnapshot): JobEvent => ({ seq, type, jobId: 'job', at, job });
const output = (seq: number, chunk: unknown): JobEvent => ({ seq, type: 'output', jobId: 'job', at, chunk });

describe('JobFeed', () => {
  it('folds status, output and gap events into a view', () => {
    const feed = new JobFeed(client, 'job');
    expect(feed.view()).toEqual(EMPTY_VIEW);
    feed.apply(status(1, 'queued', snapshot('queued')));
    feed.apply(status(2, 'started', snapshot('running')));
    feed.apply(output(3, 'Hello, '));
    feed.apply(output(4, { n: 1 }));
    feed.apply({ seq: 7, type: 'gap', jobId: 'job', at, fromSeq: 5, toSeq: 7 });
    feed.apply(output(8, 'world'));
    expect(feed.view()).toEqual({ job: snapshot('running'), output: { text: 'Hello, world', chunks: ['Hello, ', { n: 1 }, 'world'], gap: true }, error: undefined, reconnecting: false });
    expect(feed.lastSeq).toBe(8);
    expect(feed.ended).toBe(false);
    feed.apply(status(9, 'completed', snapshot('completed', 100)));
    expect(feed.ended).toBe(true);
    expect(feed.view().job?.progress).toBe(100);
  });

  it('applies an event at or before the last one seen never again', () => {
    const feed = new JobFeed(client, 'job');
    expect(feed.apply(output(1, 'a'))).toBe(true);
    const version = feed.version;
    expect(feed.apply(output(1, 'a'))).toBe(false);
    expect(feed.apply(output(0, 'z'))).toBe(false);
    expect(feed.version).toBe(version);
    expect(feed.view().output.text).toBe('a');
  });

  it('keeps one view per change: the chunks are copied once however often it is read', () => {
    const feed = new JobFeed(client, 'job');
    feed.apply(output(1, 'a'));
    const view = feed.view();
    expect(feed.view()).toBe(view);
    feed.apply(output(2, 'b'));
    const next = feed.view();
    expect(next).not.toBe(view);
    expect(view.output.chunks).toEqual(['a']); // an earlier view is never changed
    expect(next.output.chunks).toEqual(['a', 'b']);
    expect(new JobFeed(client, 'job').view().output).toBe(NO_OUTPUT);
  });

  it('keeps the output and its chunks array while no output comes; a new array once some does', () => {
    const feed = new JobFeed(client, 'job');
    feed.apply(status(1, 'started', snapshot('running')));
    expect(feed.view().output).toBe(NO_OUTPUT);
    feed.apply(output(2, 'a'));
    const first = feed.view();
    const chunks = first.output.chunks;
    expect(first.output.chunks).toBe(chunks); // read again: the same array
    expect(Object.isFrozen(chunks)).toBe(true);
    // A progress event and a reconnect change the view, not its output.
    feed.apply(status(3, 'progress', snapshot('running', 50)));
    feed.setReconnecting(true);
    const later = feed.view();
    expect(later).not.toBe(first);
    expect(later.output).toBe(first.output);
    expect(later.output.chunks).toBe(chunks);
    // Output changes it: a new array, and the earlier one stays as it was.
    feed.apply(output(4, { n: 1 }));
    const next = feed.view().output;
    expect(next).not.toBe(first.output);
    expect(next.chunks).not.toBe(chunks);
    expect(next.chunks).toEqual(['a', { n: 1 }]);
    expect(chunks).toEqual(['a']);
    // A gap changes it too.
    feed.apply({ seq: 6, type: 'gap', jobId: 'job', at, fromSeq: 5, toSeq: 6 });
    expect(feed.view().output).toEqual({ text: 'a', chunks: ['a', { n: 1 }], gap: true });
    expect(feed.view().output).not.toBe(next);
  });

  it('a view costs no copy of the chunks: a long output read as text copies nothing, its chunks once per change', () => {
    const feed = new JobFeed(client, 'job');
    let seq = 0;
    const texts: string[] = [];
    const slice = vi.spyOn(Array.prototype, 'slice');
    let copiesWhileText: number;
    let copiesWhileProgress: number;
    let copiesAtRead: number;
    try {
      // Thousands of chunks, a render after each: reading text copies nothing.
      for (let n = 0; n < 5_000; n++) {
        feed.apply(output(++seq, 'x'));
        texts.push(feed.view().output.text);
      }
      copiesWhileText = slice.mock.calls.length;
      // Read chunks once: one copy; status events after it copy nothing, however often chunks is read.
      const chunks = feed.view().output.chunks;
      copiesAtRead = slice.mock.calls.length - copiesWhileText;
      for (let n = 0; n < 1_000; n++) {
        feed.apply(status(++seq, 'progress', snapshot('running', n % 100)));
        if (feed.view().output.chunks !== chunks) throw new Error('the chunks changed without output');
      }
      copiesWhileProgress = slice.mock.calls.length - copiesWhileText - copiesAtRead;
    } finally {
      slice.mockRestore();
    }
    expect([copiesWhileText, copiesAtRead, copiesWhileProgress]).toEqual([0, 1, 0]);
    expect(texts.at(-1)).toBe('x'.repeat(5_000));
    expect(feed.view().output.chunks).toHaveLength(5_000);
  });

  it('a failed action shows until one succeeds; a failed follow ends the feed', () => {
    const feed = new JobFeed(client, 'job');
    const refused = new JobwireError('INVALID_REQUEST', 'no');
    feed.fail(refused, true);
    expect(feed.view().error).toBe(refused);
    expect(feed.ended).toBe(false);
    feed.actionSucceeded();
    expect(feed.view().error).toBeUndefined();

    const gone = new JobwireError('JOB_NOT_FOUND', 'Unknown job job');
    feed.fail(gone, false);
    feed.actionSucceeded();
    expect(feed.view().error).toBe(gone);
    expect(feed.ended).toBe(true);
  });

  it('reconnecting while the client says so; a failed follow is not reconnecting', () => {
    const feed = new JobFeed(client, 'job');
    expect(feed.setReconnecting(false)).toBe(false);
    expect(feed.setReconnecting(true)).toBe(true);
    expect(feed.view().reconnecting).toBe(true);
    expect(feed.setReconnecting(true)).toBe(false);
    expect(feed.setReconnecting(false)).toBe(true);
    expect(feed.view().reconnecting).toBe(false);
    feed.setReconnecting(true);
    feed.fail(new JobwireError('FORBIDDEN', 'Forbidden'), false);
    expect(feed.view().reconnecting).toBe(false);
  });

  it('belongs to one job of one client', () => {
    const feed = new JobFeed(client, 'job');
    expect(feed.isFor(client, 'job')).toBe(true);
    expect(feed.isFor(client, 'other')).toBe(false);
    expect(feed.isFor({}, 'job')).toBe(false);
  });
});
