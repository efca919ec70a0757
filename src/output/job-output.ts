import type { LoggedEvent } from '../backend/logged-event.js';
import type { JobOutputEvent } from '../job.js';
import type { StoredOutput } from '../storage/types.js';
import type { JobOutput } from '../tracker/types.js';

/** A job's retained output, read from its whole log (see `JobStore.log`). */
export function outputOf(log: readonly LoggedEvent[]): JobOutput {
  const chunks: unknown[] = [];
  let gap = false;
  let lastSeq = 0;
  for (const event of log) {
    if (event.type === 'output') {
      chunks.push((event.event() as JobOutputEvent).chunk);
      lastSeq = event.seq;
    } else if (event.type === 'gap') {
      gap = true;
    }
  }
  return { chunks, gap, lastSeq };
}

/**
 * A finished job's output as its stored result keeps it: the concatenation when every chunk is a
 * string, else the chunks; `undefined` when the plugin wrote nothing.
 */
export function storedOutputOf(output: JobOutput): StoredOutput | undefined {
  if (output.chunks.length === 0 && !output.gap) return undefined;
  const stored: StoredOutput = output.chunks.every((chunk) => typeof chunk === 'string') ? { text: output.chunks.join('') } : { chunks: output.chunks };
  if (output.gap) stored.gap = true;
  return stored;
}
