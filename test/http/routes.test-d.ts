import { describe, expectTypeOf, it } from 'vitest';
import type { JobEvent, JobGapEvent, JobOutputEvent, JobStatusEvent, JobwireErrorCode, ListQuery, ResultQuery, StoredResult } from '../../src/index.js';
import type { AuthorizeContext, HttpErrorBody, HttpOnlyErrorCode, JobAction, JobRoutesOptions, JobRoutesSSEOptions } from '../../src/http/index.js';
import type { JobStreamOptions } from '../../src/sse/index.js';

describe('the types of the HTTP routes', () => {
  it('authorize is told every action, and the result a result route is about to send', () => {
    expectTypeOf<JobAction>().toEqualTypeOf<'submit' | 'get' | 'list' | 'cancel' | 'retry' | 'remove' | 'events' | 'output' | 'result' | 'results' | 'plugins' | 'schedules' | 'stats'>();
    expectTypeOf<AuthorizeContext['result']>().toEqualTypeOf<StoredResult | undefined>();
    // The parsed query of GET /results fits the `query` field that GET /jobs fills.
    expectTypeOf<ResultQuery>().toExtend<ListQuery>();
  });

  it('the sse option takes the stream options a route can set, not the per-request ones', () => {
    expectTypeOf<JobRoutesOptions['sse']>().toEqualTypeOf<JobRoutesSSEOptions | undefined>();
    expectTypeOf<keyof JobRoutesSSEOptions>().toEqualTypeOf<'heartbeatMs' | 'retryMs' | 'serialize' | 'eventName' | 'endEvent'>();
    expectTypeOf<JobStreamOptions['eventName']>().toEqualTypeOf<((event: JobEvent) => string | undefined) | undefined>();
    // serialize and eventName get every event: status events, output and gap (htmx renders output as fragments).
    expectTypeOf<JobStreamOptions['serialize']>().toEqualTypeOf<((event: JobEvent) => string) | undefined>();
    expectTypeOf<Parameters<NonNullable<JobStreamOptions['serialize']>>[0]>().toEqualTypeOf<JobStatusEvent | JobOutputEvent | JobGapEvent>();
  });

  it('an error body carries a JobwireErrorCode or one of the HTTP-only codes', () => {
    expectTypeOf<HttpOnlyErrorCode>().toEqualTypeOf<'INTERNAL' | 'NOT_FOUND'>();
    expectTypeOf<HttpErrorBody['error']['code']>().toEqualTypeOf<JobwireErrorCode | HttpOnlyErrorCode>();
  });
});
