import { describe, expect, it } from 'vitest';
import { EventStream, MERGE_AFTER, type EventStreamSource } from '../../src/engine/event-stream.js';
import type { JobEvent } from '../../src/job.js';

/** A log item as the stream buffers it: output (100 bytes), progress, or a gap over `from..seq`. */
interface Item {
  seq: number;
  type: 'output' | 'progress' | 'gap';
  from?: number;
}

const LIMIT = 1_000;

/** The stream's source as the event hub gives it, over plain items. */
const source: EventStreamSource<Item> = {
  build: (item) => ({ seq: item.seq, type: item.type, jobId: 'j', at: '', ...(item.type === 'gap' && { fromSeq: item.from, toSeq: item.seq }) }) as JobEvent,
  isProgress: (item) => item.type === 'progress',
  isTerminal: () => false,
  outputSize: (item) => (item.type === 'output' ? 100 : undefined),
  isGap: (item) => item.type === 'gap',
  gap: (dropped, before) =>
    before?.type === 'gap'
      ? { item: { seq: dropped.seq, type: 'gap', from: before.from! }, mergedWithBefore: true }
      : { item: { seq: dropped.seq, type: 'gap', from: dropped.from ?? dropped.seq }, mergedWithBefore: false },
  limitBytes: LIMIT,
  onClose: () => {},
};

/** Push `rounds` of `writes` outputs then one progress to a reader that reads nothing; then read it all. */
async function stalled(rounds: number, writes: number): Promise<JobEvent[]> {
  const stream = new EventStream(source);
  let seq = 0;
  for (let round = 0; round < rounds; round++) {
    for (let w = 0; w < writes; w++) stream.push({ seq: ++seq, type: 'output' });
    stream.push({ seq: ++seq, type: 'progress' });
  }
  stream.end();
  const events: JobEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** Every seq up to `last` is delivered or inside a gap, in order; what is missing is progress only. */
function checkCovered(events: JobEvent[], last: number): void {
  let next = 1;
  for (const event of events) {
    const from = event.type === 'gap' ? event.fromSeq : event.seq;
    expect(from, `event ${event.type} ${event.seq}`).toBeGreaterThanOrEqual(next);
    next = event.seq + 1;
  }
  expect(events.at(-1)!.seq).toBe(last);
}

describe('the unread buffer of a reader that reads nothing', () => {
  it('holds a bounded number of gaps when more output than the limit comes between two reports', async () => {
    const rounds = 5_000;
    const events = await stalled(rounds, 20); // 2 000 bytes of output between reports, twice the limit
    checkCovered(events, rounds * 21);
    // Each report coalesced away lets the gaps on its two sides become one.
    expect(events.filter((event) => event.type === 'gap').length).toBeLessThan(MERGE_AFTER);
    expect(events.filter((event) => event.type === 'progress').length).toBeLessThan(MERGE_AFTER);
    expect(events.length).toBeLessThan(2 * MERGE_AFTER);
  });

  it('cuts string output merged for it down to the limit too: a log written line by line', async () => {
    type Line = Item & { text?: string };
    const stream = new EventStream<Line>({
      ...(source as unknown as EventStreamSource<Line>),
      limitBytes: 100_000, // room for more than MERGE_AFTER lines: the reader lags before any is dropped
      build: (item) => (item.type === 'output' ? ({ seq: item.seq, type: 'output', jobId: 'j', at: '', chunk: item.text } as JobEvent) : source.build(item)),
      outputSize: (item) => (item.type === 'output' ? item.text!.length : undefined),
      // Strings of separate appends merge for a reader far behind, as the hub's source does.
      merge: (older, newer, lagging) => (lagging && older.type === 'output' && newer.type === 'output' ? { seq: newer.seq, type: 'output', from: older.from ?? older.seq, text: older.text! + newer.text! } : undefined),
    });
    const lines = 20_000;
    for (let seq = 1; seq <= lines; seq++) stream.push({ seq, type: 'output', text: 'a line of a log\n' });
    stream.end();
    const events: JobEvent[] = [];
    for await (const event of stream) events.push(event);
    checkCovered(events, lines);
    const held = events.reduce((total, event) => total + (event.type === 'output' ? (event.chunk as string).length : 0), 0);
    expect(held).toBeLessThanOrEqual(100_000 + 16);
    expect(events.filter((event) => event.type === 'gap')).toHaveLength(1);
  });

  it('keeps track of its unread progress through the squeezes of its holes: bounded after a million reports', async () => {
    const rounds = 1_000_000;
    const events = await stalled(rounds, 2);
    checkCovered(events, rounds * 3);
    expect(events.filter((event) => event.type === 'progress').length).toBeLessThan(MERGE_AFTER);
    expect(events.length).toBeLessThan(2 * MERGE_AFTER);
  });
});
