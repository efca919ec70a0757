import type { OutputAppend } from '../backend/job-store.js';
import { outputBatchJson } from '../output/output-events.js';
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
  const from = batch.afterSeq + 1;
  const to = batch.afterSeq + batch.chunks.length;
  if (first === 0) return { json, bytes, kept: { json, from, to, bytes }, droppedHead: undefined };
  const droppedHead = { from, to: batch.afterSeq + first };
  if (first === sizes.length) return { json, bytes, kept: undefined, droppedHead };
  const tail = outputBatchJson({ ...batch, afterSeq: batch.afterSeq + first, chunks: batch.chunks.slice(first) });
  return { json, bytes, kept: { json: tail, from: batch.afterSeq + first + 1, to, bytes: keptBytes }, droppedHead };
}
