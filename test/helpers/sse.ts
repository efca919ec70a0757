import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** What an independent SSE parser makes of a text: events, retry values and comments. */
export interface ParsedSSE {
  events: EventSourceMessage[];
  retries: number[];
  comments: string[];
}

/** Parse SSE text (or frames) with eventsource-parser. */
export function parseSSE(text: string | readonly string[]): ParsedSSE {
  const parsed: ParsedSSE = { events: [], retries: [], comments: [] };
  const parser = createParser({
    onEvent: (event) => parsed.events.push(event),
    onRetry: (retry) => parsed.retries.push(retry),
    onComment: (comment) => parsed.comments.push(comment),
  });
  for (const chunk of typeof text === 'string' ? [text] : text) parser.feed(chunk);
  return parsed;
}
