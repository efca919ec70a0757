import type { Job } from 'bullmq';
import type { ForeignJob } from '../backend/job-dispatcher.js';
import type { JobRecord } from '../backend/job-record.js';
import { JobwireError, messageOf } from '../errors.js';
import { showable } from './job-data.js';

/** The BullMQ backoff type of jobwire's retries: the wait is the one jobwire's backoff policy gave (see {@link retryDelayOf}). */
export const RETRY_BACKOFF = 'jobwire';

/**
 * A failure's message as BullMQ can record it: PostgreSQL's text holds no NUL, so BullMQ on
 * PostgreSQL could not record the failure at all (each becomes U+FFFD).
 */
export function failureText(message: string): string {
  return message.replaceAll('\u0000', '\uFFFD');
}

/** Thrown by the processor for a try that failed and is retried: BullMQ records the failure and waits until `runAt`. */
export class RetryLater extends Error {
  override name = 'RetryLater';

  constructor(message: string, readonly runAt: number) {
    super(failureText(message));
  }
}

/**
 * The workers' BullMQ `backoffStrategy`: the wait before a retry is the one jobwire's policy gave
 * the job (its record's `runAt`); -1 (no retry) for any other failure.
 */
export function retryDelayOf(_attemptsMade: number, type?: string, error?: Error): number {
  if (type !== RETRY_BACKOFF || !(error instanceof RetryLater)) return -1;
  return Math.max(0, error.runAt - Date.now());
}

/**
 * The BullMQ entry a job's metadata names (`metadata.bullmq`: written when a job added by hand is
 * adopted), or undefined. Not to be trusted as it is: anyone submitting may write that metadata;
 * the dispatcher uses it only once the entry's data names the job (see BullMQDispatcher).
 */
export function namedEntryOf(record: JobRecord): { queue: string; id: string } | undefined {
  const entry = record.metadata.bullmq as { queue?: unknown; jobId?: unknown } | undefined;
  if (typeof entry === 'object' && entry !== null && typeof entry.queue === 'string' && typeof entry.jobId === 'string') return { queue: entry.queue, id: entry.jobId };
  return undefined;
}

/** A BullMQ job added by hand, as the engine adopts it: the plugin it is named after, its data as input. */
export function foreignJobOf(job: Job): ForeignJob {
  const id = job.id ?? '';
  return { plugin: job.name, input: job.data, key: `bullmq:${job.queueName}:${id}:${job.timestamp}`, metadata: { bullmq: { queue: job.queueName, jobId: id } } };
}

/** Codes that say a job added by hand is not a valid jobwire job (anything else is the store failing: try again later). */
const NOT_A_JOB: ReadonlySet<string> = new Set(['PLUGIN_NOT_FOUND', 'PLUGIN_DISABLED', 'INVALID_INPUT', 'INVALID_REQUEST']);

/** Why a job added by hand cannot run, as BullMQ's failure; undefined when adopting it failed for another reason (tried again). */
export function notJobwireJob(bullmq: typeof import('bullmq'), error: unknown): Error | undefined {
  if (!(error instanceof JobwireError) || !NOT_A_JOB.has(error.code)) return undefined;
  return failure(bullmq, `Not a jobwire job: ${messageOf(error)} (a job added to this queue runs when its name is a registered plugin and its data valid input for it)`);
}

/**
 * BullMQ's failure for a job jobwire ended: no retry, and no stack trace (it would show where the
 * worker reported the end, not where the plugin failed: the message says what failed).
 */
function failure(bullmq: typeof import('bullmq'), message: string): Error {
  const text = failureText(message);
  const error = new bullmq.UnrecoverableError(text);
  error.stack = `${error.name}: ${text}`;
  return error;
}

/** Why a copy of a jobwire job's BullMQ entry (Bull Board's Duplicate) is not run, as BullMQ's failure. */
export function copiedJob(bullmq: typeof import('bullmq'), id: string): Error {
  return failure(bullmq, `A copy of jobwire job ${id} is not run: tracker.retry(id) submits a failed or cancelled job again, and tracker.submit() a new one`);
}

/** The result as BullMQ's return value; with `jsonb` (BullMQ on PostgreSQL), a note instead of a result jsonb cannot hold. */
function shown(result: unknown, jsonb: boolean): unknown {
  return !jsonb || showable(result) ? result : { jobwire: 'The result holds text BullMQ on PostgreSQL cannot keep: read it with tracker.get()' };
}

/**
 * How the BullMQ job of a jobwire job ends, from how the jobwire job ended (`ended`, undefined when
 * it is gone): the processor returns the result (BullMQ `completed`, `returnvalue`), or throws an
 * `UnrecoverableError` with the jobwire error (BullMQ `failed`, `failedReason`). When the job was
 * not run (`ran` false) — BullMQ handed it out again, as its **Retry** does — the retry is refused:
 * the job's BullMQ state is its jobwire end again, and the reason says so.
 */
export async function endOf(bullmq: typeof import('bullmq'), job: Job, id: string, ended: JobRecord | undefined, ran: boolean, reportedProgress: boolean, jsonb: boolean): Promise<unknown> {
  if (!ended) throw failure(bullmq, `The jobwire job ${id} was removed${ran ? ' while it ran' : ''}`);
  const refusal = `BullMQ's retry is refused: jobwire job ${id} already ended ${ended.status}; tracker.retry(id) submits a failed or cancelled job again, as a new job`;
  switch (ended.status) {
    case 'completed':
      if (!ran) await job.log(refusal).catch(() => undefined); // best effort: the result stands either way
      else if (reportedProgress) await job.updateProgress(100).catch(() => undefined);
      return shown(ended.result, jsonb);
    case 'failed':
    case 'cancelled': {
      const message = ended.error?.message ?? `Job ${ended.status}`;
      const reason = ended.status === 'cancelled' ? `Cancelled: ${message}` : message;
      throw failure(bullmq, ran ? reason : `${refusal} (${reason})`);
    }
    default:
      // Still live: ran elsewhere, or its end could not be recorded here. The store has the truth.
      return undefined;
  }
}
