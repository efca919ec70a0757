import { JobwireError, messageOf } from '../errors.js';
import type { WorkerMessage } from './protocol.js';

/** The JSON copy of a chunk (strings as they are), or the chunk itself when JSON refuses it. */
function jsonCopy(chunk: unknown): unknown {
  if (typeof chunk === 'string') return chunk;
  try {
    const json = JSON.stringify(chunk);
    return json === undefined ? chunk : JSON.parse(json);
  } catch {
    return chunk;
  }
}

/**
 * The output (`ctx.write`) of a plugin running in a worker, sent to the host in batches: the
 * chunks written in one tick go out as one `output` message (a flood of small writes must not
 * become a message each). The worker flushes it before every other message it posts, so the host
 * sees output, progress and the outcome in the order the plugin made them.
 */
export class OutputBatch {
  readonly #post: (message: WorkerMessage) => void;
  readonly #fail: (error: JobwireError) => void;
  #pending: unknown[] = [];
  #scheduled = false;
  #failed = false;

  /**
   * @param post Sends a message to the host (may throw when a chunk cannot be cloned).
   * @param fail Called once when a chunk cannot be sent: the job fails with this error.
   */
  constructor(post: (message: WorkerMessage) => void, fail: (error: JobwireError) => void) {
    this.#post = post;
    this.#fail = fail;
  }

  /**
   * Queue a chunk for the next flush (at the end of this tick at the latest). Never throws. What is
   * queued is the chunk's JSON copy, taken now, as an inline run takes it: a later change to the
   * object is not sent, and a value JSON turns into something else (a `toJSON`, a function in an
   * object, a Buffer) crosses as that. A chunk JSON refuses is sent as it is, for the host to fail
   * the job with the same error an inline run gets.
   */
  write(chunk: unknown): void {
    if (this.#failed) return;
    this.#pending.push(jsonCopy(chunk));
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.flush();
    });
  }

  /**
   * Post every pending chunk, in order, as one message. Returns false (now and from then on) when
   * a chunk could not be sent: the chunks before it went out, the rest are dropped, and `fail`
   * was called.
   */
  flush(): boolean {
    if (this.#failed) return false;
    if (this.#pending.length === 0) return true;
    const chunks = this.#pending;
    this.#pending = [];
    try {
      this.#post({ type: 'output', chunks });
      return true;
    } catch {
      // Serialisation throws before anything is sent: find the chunk that cannot cross, one by one.
      return this.#postOneByOne(chunks);
    }
  }

  #postOneByOne(chunks: unknown[]): boolean {
    for (const chunk of chunks) {
      try {
        this.#post({ type: 'output', chunks: [chunk] });
      } catch (cause) {
        this.#failed = true;
        this.#fail(new JobwireError('PLUGIN_FAILED', `ctx.write got a chunk that cannot be sent from its worker to the host: ${messageOf(cause)}`, { cause }));
        return false;
      }
    }
    return true;
  }
}
