import type { Attributes, Exception } from '@opentelemetry/api';
import type { JobRecord } from '../backend/job-record.js';
import type { NewJob } from '../engine/records.js';
import { messageOf, type JobErrorInfo } from '../errors.js';

/**
 * The attributes of jobwire's spans: OpenTelemetry's messaging semantic conventions, where a job
 * is a message, its plugin the destination and its id the message id, plus `jobwire.*` for the rest.
 * `messaging.system` is `jobwire` on every backend: the spans describe jobwire's submit and run,
 * the same in memory as on BullMQ (whose own telemetry, if enabled, names itself).
 */
const MESSAGING = 'jobwire';

/** `messaging.*` of an operation (`send` or `process`) on `plugin`'s jobs. */
function messaging(operation: 'send' | 'process', plugin: string): Attributes {
  return {
    'messaging.system': MESSAGING,
    // The name later semantic conventions give `messaging.system`; both, until tools read the new one.
    'messaging.system.name': MESSAGING,
    'messaging.operation.type': operation,
    'messaging.operation.name': operation,
    'messaging.destination.name': plugin,
  };
}

/** A submit's span attributes, known before the job is stored. */
export function sendAttributes(job: NewJob): Attributes {
  const attributes: Attributes = { ...messaging('send', job.plugin), 'jobwire.plugin': job.plugin };
  if (job.retryOf !== undefined) attributes['jobwire.retry_of'] = job.retryOf;
  if (job.scheduleKey !== undefined) attributes['jobwire.schedule.key'] = job.scheduleKey;
  return attributes;
}

/** The attributes a submit's span gains once the job is stored. */
export function sentAttributes(id: string): Attributes {
  return { 'messaging.message.id': id, 'jobwire.job.id': id };
}

/** A try's span attributes. */
export function processAttributes(job: JobRecord): Attributes {
  return { ...messaging('process', job.plugin), ...sentAttributes(job.id), 'jobwire.plugin': job.plugin, 'jobwire.attempt': job.attempt ?? 1 };
}

/** The attributes of a span whose operation failed with `error`. */
export function errorAttributes(error: JobErrorInfo): Attributes {
  return { 'error.type': error.code, 'jobwire.error.code': error.code };
}

/** What `span.recordException` takes, from anything thrown. */
export function exceptionOf(thrown: unknown): Exception {
  if (thrown instanceof Error || typeof thrown === 'string') return thrown;
  return { name: typeof thrown, message: messageOf(thrown) };
}
