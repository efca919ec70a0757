import type { OutputAppend } from '../backend/job-store.js';
import { chunkCost } from './output-events.js';

/** How much of one appended batch a store keeps (see {@link keptTail}). */
export interface KeptTail {
  /** What each chunk counts against `limitBytes` ({@link chunkCost}). */
  readonly sizes: readonly number[];
  /** The whole batch's count. */
  readonly bytes: number;
  /** How many of its oldest chunks are dropped at once: 0 unless the batch alone is past the limit. */
  readonly first: number;
  /** The count of the chunks kept (`first` onwards). */
  readonly keptBytes: number;
}

/**
 * The part of a batch a store keeps: all of it while it fits in `limitBytes` (older batches then
 * go first, whole), else its newest chunks that fit — and every older batch goes with its head, so
 * what a store keeps is always the newest output, in one piece. Every store trims by this rule.
 */
export function keptTail(batch: OutputAppend): KeptTail {
  const sizes = batch.chunks.map((chunk) => chunkCost(chunk.json));
  let bytes = 0;
  for (const size of sizes) bytes += size;
  let first = 0;
  let keptBytes = bytes;
  while (keptBytes > batch.limitBytes && first < sizes.length) keptBytes -= sizes[first++] as number;
  return { sizes, bytes, first, keptBytes };
}
