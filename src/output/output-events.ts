import type { LoggedEvent } from '../backend/logged-event.js';
import type { OutputAppend } from '../backend/job-store.js';
import { JobwireError } from '../errors.js';
import type { JobGapEvent, JobOutputEvent } from '../job.js';
import { isoTime } from '../engine/iso-time.js';

/**
 * An output chunk's {@link LoggedEvent}, with the first seq of the append that brought it: string
 * chunks written in one tick travel in one append and reach a reader as one event.
 */
export interface OutputLoggedEvent extends LoggedEvent {
  readonly type: 'output';
  /** The first seq of the chunk's append (`afterSeq + 1`). */
  readonly batchStart: number;
  /** The first seq the event holds, when it holds several chunks merged. */
  readonly fromSeq?: number;
}

/** A {@link LoggedEvent} for one output chunk of the append starting at `batchStart`; its {@link JobOutputEvent} is built on first use. */
export function outputEvent(jobId: string, seq: number, at: number, chunk: unknown, batchStart = seq): OutputLoggedEvent {
  let built: JobOutputEvent | undefined;
  return {
    jobId,
    seq,
    type: 'output',
    batchStart,
    event: () => (built ??= { seq, type: 'output', jobId, at: isoTime(at), chunk }),
  };
}

/** A {@link LoggedEvent} for dropped output: the seqs `fromSeq` … `toSeq` (its own seq is `toSeq`). */
export function gapEvent(jobId: string, fromSeq: number, toSeq: number, at: number): LoggedEvent {
  let built: JobGapEvent | undefined;
  return {
    jobId,
    seq: toSeq,
    type: 'gap',
    event: () => (built ??= { seq: toSeq, type: 'gap', jobId, at: isoTime(at), fromSeq, toSeq }),
  };
}

/** The seq of a batch's first chunk: after the ones its run dropped (see `OutputAppend.dropped`). */
export function firstSeqOfBatch(batch: OutputAppend): number {
  return batch.afterSeq + (batch.dropped ?? 0) + 1;
}

/** The job's seq once the batch is appended: its last chunk's. */
export function lastSeqOf(batch: OutputAppend): number {
  return batch.afterSeq + (batch.dropped ?? 0) + batch.chunks.length;
}

/**
 * The events a store delivers for a batch: a `gap` for the chunks its run dropped (when it
 * dropped any), then one event per chunk.
 */
export function outputEventsOf(batch: OutputAppend): LoggedEvent[] {
  const from = firstSeqOfBatch(batch);
  const events: LoggedEvent[] = [];
  if (from > batch.afterSeq + 1) events.push(gapEvent(batch.jobId, batch.afterSeq + 1, from - 1, batch.at));
  for (let i = 0; i < batch.chunks.length; i++) events.push(outputEvent(batch.jobId, from + i, batch.at, (batch.chunks[i] as { value: unknown }).value, from));
  return events;
}

/**
 * What each chunk counts against `outputLimitBytes` beside its JSON: the chunk itself takes room
 * in every store and reader, so a million one-byte chunks cost what they hold, not 1 MB.
 */
export const CHUNK_COST = 64;

/** What one chunk (its JSON text) counts against `limitBytes`: its UTF-8 bytes and {@link CHUNK_COST}. */
export function chunkCost(json: string): number {
  return Buffer.byteLength(json, 'utf8') + CHUNK_COST;
}

/** What a batch's chunks count against `limitBytes` (see {@link chunkCost}). */
export function outputBytes(batch: OutputAppend): number {
  let bytes = 0;
  for (const chunk of batch.chunks) bytes += chunkCost(chunk.json);
  return bytes;
}

/**
 * The JSON text a store that keeps text stores (and publishes) for a batch:
 * `{"jobId":…,"from":<first chunk's seq>,"at":<epoch ms>,"chunks":[<chunk json>,…]}` — and
 * `"dropped":<n>` when its run dropped chunks before these — built from the chunks' own JSON without
 * serialising them again. {@link parseOutputBatch} reads it back.
 */
export function outputBatchJson(batch: OutputAppend): string {
  let chunks = '';
  for (let i = 0; i < batch.chunks.length; i++) chunks += (i === 0 ? '' : ',') + (batch.chunks[i] as { json: string }).json;
  const dropped = batch.dropped ? `,"dropped":${batch.dropped}` : '';
  return `{"jobId":${JSON.stringify(batch.jobId)},"from":${firstSeqOfBatch(batch)},"at":${batch.at}${dropped},"chunks":[${chunks}]}`;
}

/**
 * The events of a batch stored as {@link outputBatchJson}, one per chunk.
 * @throws JobwireError `UNAVAILABLE` when the text is not such a batch (a store holding foreign data).
 */
export function parseOutputBatch(json: string): LoggedEvent[] {
  let batch: { jobId?: unknown; from?: unknown; at?: unknown; chunks?: unknown; dropped?: unknown };
  try {
    batch = JSON.parse(json) as typeof batch;
  } catch (cause) {
    throw new JobwireError('UNAVAILABLE', 'The job store returned output that is not JSON', { cause });
  }
  const { jobId, from, at, chunks } = batch ?? {};
  if (typeof jobId !== 'string' || typeof from !== 'number' || typeof at !== 'number' || !Array.isArray(chunks)) {
    throw new JobwireError('UNAVAILABLE', 'The job store returned something that is not a batch of output');
  }
  const events: LoggedEvent[] = chunks.map((chunk: unknown, i) => outputEvent(jobId, from + i, at, chunk, from));
  const { dropped } = batch;
  if (typeof dropped === 'number' && dropped > 0) events.unshift(gapEvent(jobId, from - dropped, from - 1, at));
  return events;
}

/** The first seq an output event holds (its own, unless it is merged). */
export function firstSeqOf(event: LoggedEvent): number {
  return (event as Partial<OutputLoggedEvent>).fromSeq ?? event.seq;
}

/** True for an output event whose chunk is a string: one that may be merged with its neighbours. */
export function isStringOutput(event: LoggedEvent): boolean {
  return event.type === 'output' && typeof (event.event() as JobOutputEvent).chunk === 'string';
}

/**
 * One output event for two adjacent string chunks: the text of both, the seq and time of the
 * newer. `undefined` unless both are string `output` events, and — unless `lagging` (the reader
 * is far behind) — of the same append (written in one tick).
 */
export function mergedOutput(older: LoggedEvent, newer: LoggedEvent, lagging: boolean): OutputLoggedEvent | undefined {
  if (older.type !== 'output' || newer.type !== 'output') return undefined;
  const batchStart = (newer as OutputLoggedEvent).batchStart;
  if (!lagging && (batchStart === undefined || (older as OutputLoggedEvent).batchStart !== batchStart)) return undefined;
  const first = older.event() as JobOutputEvent;
  const second = newer.event() as JobOutputEvent;
  if (typeof first.chunk !== 'string' || typeof second.chunk !== 'string') return undefined;
  const merged: JobOutputEvent = { seq: second.seq, type: 'output', jobId: second.jobId, at: second.at, chunk: first.chunk + second.chunk };
  return { jobId: merged.jobId, seq: merged.seq, fromSeq: firstSeqOf(older), batchStart, type: 'output', event: () => merged };
}

/** A gap event covering `fromSeq` … `toSeq`, at the ISO time `at` (a reader's own gap). */
export function readerGap(jobId: string, fromSeq: number, toSeq: number, at: string): LoggedEvent {
  const gap: JobGapEvent = { seq: toSeq, type: 'gap', jobId, at, fromSeq, toSeq };
  return { jobId, seq: toSeq, type: 'gap', event: () => gap };
}

/**
 * A job's whole log from its parts, in seq order (see `JobStore.log`): its status events, its
 * retained output events (each list already in seq order) and the gap of its dropped output, if any.
 */
export function mergeLog(status: readonly LoggedEvent[], output: readonly LoggedEvent[], gap: LoggedEvent | undefined): LoggedEvent[] {
  if (output.length === 0 && gap === undefined) return status.slice();
  const merged: LoggedEvent[] = [];
  let s = 0;
  let o = 0;
  let gapDone = gap === undefined;
  while (s < status.length || o < output.length || !gapDone) {
    const nextStatus = status[s]?.seq ?? Infinity;
    const nextOutput = output[o]?.seq ?? Infinity;
    const nextGap = gapDone ? Infinity : (gap as LoggedEvent).seq;
    if (nextGap < nextStatus && nextGap < nextOutput) {
      merged.push(gap as LoggedEvent);
      gapDone = true;
    } else if (nextStatus < nextOutput) {
      merged.push(status[s++] as LoggedEvent);
    } else {
      merged.push(output[o++] as LoggedEvent);
    }
  }
  return merged;
}
