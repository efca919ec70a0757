import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { JobEvent } from '../job.js';

/** The job event a message carries, or undefined for anything else (an `endEvent`, a custom frame). */
function jobEventOf(message: EventSourceMessage): JobEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(message.data);
  } catch {
    return undefined;
  }
  const event = value as Partial<JobEvent> | null;
  return typeof event === 'object' && event !== null && typeof event.seq === 'number' && typeof event.type === 'string' && typeof event.jobId === 'string' ? (event as JobEvent) : undefined;
}

/**
 * The job events of an SSE body, parsed by `eventsource-parser`, read only as fast as they are
 * consumed. `onRetry` gets the server's `retry:`. Ends when the body ends, calling `onEnd` first
 * when it ended cleanly: after a whole frame (a blank line), or before any byte. Rejects when it
 * breaks. Ending the iteration early cancels the body (the connection closes).
 */
export async function* readJobEvents(body: ReadableStream<Uint8Array>, onRetry: (ms: number) => void, onEnd: () => void): AsyncGenerator<JobEvent, void> {
  const messages: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (message) => messages.push(message), onRetry });
  const decoder = new TextDecoder();
  const reader = body.getReader();
  /** The last characters read: the body ended on a frame's end when they are a blank line. */
  let tail = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) {
        if (/(\r?\n){2}$|\r\r$|^$/.test(tail)) onEnd();
        return;
      }
      const text = decoder.decode(value, { stream: true });
      tail = (tail + text).slice(-4);
      parser.feed(text);
      for (const message of messages.splice(0)) {
        const event = jobEventOf(message);
        if (event) yield event;
      }
    }
  } finally {
    // Ended early, or broken: let the connection go. A body that already ended ignores this.
    reader.cancel().catch(() => undefined);
  }
}
