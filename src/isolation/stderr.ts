import { StringDecoder } from 'node:string_decoder';
import type { StderrSource, StderrTarget } from './options.js';

/** Where the chunks of one worker's stderr pipe go. */
export interface StderrSink {
  write(chunk: Buffer): void;
  /** The pipe closed: pass on a last line that had no line ending. */
  end(): void;
}

/** A sink for a worker's stderr, as the host asked with {@link StderrTarget}. */
export function stderrSink(target: StderrTarget, source: StderrSource): StderrSink {
  if (target === 'inherit') return { write: (chunk) => void process.stderr.write(chunk), end() {} };
  if (target === 'ignore') return { write() {}, end() {} };
  const decoder = new StringDecoder('utf8');
  let partial = '';
  const emit = (line: string): void => {
    try {
      target(line, source);
    } catch {
      // A failing log sink must not take the job or the host down: the line is lost, nothing else.
    }
  };
  return {
    write(chunk) {
      const lines = (partial + decoder.write(chunk)).split(/\r?\n/);
      partial = lines.pop() ?? '';
      for (const line of lines) emit(line);
    },
    end() {
      const last = partial + decoder.end();
      partial = '';
      if (last !== '') emit(last);
    },
  };
}
