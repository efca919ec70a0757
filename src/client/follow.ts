import { JobwireError } from '../errors.js';
import { isTerminalEventType, type JobEvent } from '../job.js';
import { cursorId, parseJobCursors } from '../sse/job-cursors.js';
import { checkJobId } from './job-id.js';
import type { Subscription } from './subscribe.js';
import type { Transport } from './transport.js';

function parseSeq(value: string | number): number {
  const text = String(value).trim();
  if (!/^\d{1,15}$/.test(text)) throw new JobwireError('INVALID_REQUEST', `\`lastEventId\` of one job must be a non-negative integer, got ${JSON.stringify(value)}`);
  return Number(text);
}

/**
 * Following jobs to their ends: one job on `GET {basePath}/:id/events`, several on
 * `GET {basePath}/events?id=…`. Keeps the last seq seen of each job, which is what a reconnect
 * sends (`Last-Event-ID`) and what drops an event seen before; a job is left out of the next
 * connection once its terminal event came, and the subscription is finished when all have.
 */
export function followJobs(transport: Transport, basePath: string, ids: string | readonly string[], lastEventId: string | number | undefined): Subscription<JobEvent> {
  const many = typeof ids !== 'string';
  const jobs = many ? [...new Set(ids)] : [ids];
  for (const id of jobs) checkJobId(id, many);
  const seen = new Map<string, number>();
  if (lastEventId !== undefined && lastEventId !== '') {
    if (many) for (const [id, seq] of parseJobCursors(String(lastEventId))) seen.set(id, seq);
    else seen.set(ids, parseSeq(lastEventId));
  }
  const ended = new Set<string>();
  const live = (): string[] => jobs.filter((id) => !ended.has(id));

  return {
    connection() {
      const open = live();
      if (open.length === 0) return undefined;
      if (!many) {
        const seq = seen.get(ids);
        return { url: transport.url(`${basePath}/${ids}/events`), lastEventId: seq === undefined ? undefined : String(seq) };
      }
      const cursors = open.flatMap((id) => (seen.has(id) ? [cursorId(id, seen.get(id) as number)] : []));
      return { url: transport.url(`${basePath}/events`, { id: open }), lastEventId: cursors.join(',') };
    },
    accept(event) {
      if (!jobs.includes(event.jobId) || ended.has(event.jobId) || event.seq <= (seen.get(event.jobId) ?? 0)) return undefined;
      seen.set(event.jobId, event.seq);
      if (isTerminalEventType(event.type)) ended.add(event.jobId);
      return event;
    },
    finished: () => ended.size === jobs.length,
  };
}
