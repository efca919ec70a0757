import type { OutputAppend } from '../backend/job-store.js';
import { firstSeqOfBatch, lastSeqOf, outputBatchJson } from '../output/output-events.js';
import { keptTail } from '../output/kept-tail.js';

/** What a database store writes for one {@link OutputAppend}: the batch as published, and the part of it kept. */
export interface KeptOutput {
  /** The whole batch as {@link outputBatchJson} text: what the bus carries to live readers. */
  readonly json: string;
  /** Bytes of the whole batch (its chunks' JSON, UTF-8): what it adds to the job's output ever written. */
  readonly bytes: number;
  /** The part of the batch to store; `undefined` when even its last chunk alone is past the limit. */
  readonly kept: { readonly json: string; readonly from: number; readonly to: number; readonly bytes: number } | undefined;
  /**
   * Seqs of the batch's own first chunks that are dropped at once (the batch alone is past the
   * limit); `undefined` in the common case. When set, every older batch is dropped too: what is
   * kept is always the newest output.
   */
  readonly droppedHead: { readonly from: number; readonly to: number } | undefined;
}

/**
 * Split a batch into what is kept and what is dropped at once. The store drops older batches
 * whole; a batch that alone is past `limitBytes` keeps only its newest chunks that fit, so the
 * newest output is kept even then. Each chunk's bytes are counted once here.
 */
export function keptOutput(batch: OutputAppend): KeptOutput {
  const { sizes, bytes, first, keptBytes } = keptTail(batch);
  const json = outputBatchJson(batch);
  const from = firstSeqOfBatch(batch);
  const to = lastSeqOf(batch);
  // The run's own dropped chunks and the head of the batch past the limit go together, as one range.
  const head = from - 1 - batch.afterSeq + first;
  if (head === 0) return { json, bytes, kept: { json, from, to, bytes }, droppedHead: undefined };
  const droppedHead = { from: batch.afterSeq + 1, to: batch.afterSeq + head };
  if (first === sizes.length) return { json, bytes, kept: undefined, droppedHead };
  // What is kept is stored without `dropped`: the log says what was dropped with its one gap.
  const tail = outputBatchJson({ jobId: batch.jobId, at: batch.at, limitBytes: batch.limitBytes, afterSeq: from - 1 + first, chunks: batch.chunks.slice(first) });
  return { json, bytes, kept: { json: tail, from: from + first, to, bytes: keptBytes }, droppedHead };
}
