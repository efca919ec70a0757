import { describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/backend/job-record.js';
import { jobDataOf, jobwireJobOf } from '../../src/bullmq/job-data.js';
import { queuedRecord } from '../../src/engine/records.js';

const record = (input: unknown, tenantId?: string): JobRecord =>
  queuedRecord('AAAAAAAAAAAAAAAAAAAAAA', { plugin: 'paint', input, tenantId, workspaceId: undefined, metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey: undefined, attempts: 3, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined }, undefined, 1_000);

describe("a BullMQ job's data", () => {
  it('carries the input and the jobwire fields, and gives back the record it carries', () => {
    const queued = record({ key: 'k' }, 't1');
    const data = JSON.parse(JSON.stringify(jobDataOf(queued, false)));
    expect(data).toMatchObject({ input: { key: 'k' }, jobwire: { id: queued.id, plugin: 'paint', tenantId: 't1', maxAttempts: 3 } });
    expect(data.jobwire).not.toHaveProperty('priority');
    expect(jobwireJobOf(data, queued.id)).toEqual({ id: queued.id, record: JSON.parse(JSON.stringify(queued)) });
  });

  it('runs the input of the record, not an input edited in the data', () => {
    const queued = record({ key: 'k' });
    const data = { ...jobDataOf(queued, false), input: { key: 'edited' } };
    expect(jobwireJobOf(data, queued.id)?.record?.input).toEqual({ key: 'k' });
  });

  it('on jsonb, leaves out what PostgreSQL cannot hold and carries the record alone', () => {
    const queued = record({ key: 'a\u0000b' });
    const data = jobDataOf(queued, true);
    expect(data).toEqual({ jobwire: { id: queued.id, plugin: 'paint', record: JSON.stringify(queued) } });
    expect(jobwireJobOf(JSON.parse(JSON.stringify(data)), queued.id)?.record?.input).toEqual({ key: 'a\u0000b' });
    expect(jobDataOf(queued, false)).toHaveProperty('input', { key: 'a\u0000b' }); // Redis keeps it as it is
  });

  it('still reads the shape older versions queued jobs with, and knows data it did not write', () => {
    const queued = record({ key: 'k' });
    expect(jobwireJobOf({ id: queued.id, record: JSON.stringify(queued) }, queued.id)).toEqual({ id: queued.id, record: JSON.parse(JSON.stringify(queued)) });
    expect(jobwireJobOf({ key: 'k' }, '1')).toBeUndefined();
    expect(jobwireJobOf({ id: 'not a job id', record: '{}' }, 'not a job id')).toBeUndefined();
    expect(jobwireJobOf('text', '1')).toBeUndefined();
    expect(jobwireJobOf({ jobwire: { id: queued.id, record: 'damaged' } }, '1')).toEqual({ id: queued.id, record: undefined });
  });

  it('takes data added by hand that holds an id for input to adopt, not for a job of the older shape', () => {
    const queued = record({ key: 'k' });
    expect(jobwireJobOf({ id: 'img42' }, '7')).toBeUndefined();
    expect(jobwireJobOf({ id: 'img42' }, 'img42')).toBeUndefined(); // no record: not the older shape
    expect(jobwireJobOf({ jobId: 'img42' }, 'img42')).toBeUndefined();
    expect(jobwireJobOf({ id: queued.id, record: JSON.stringify(queued) }, '7')).toBeUndefined(); // not its own id
    expect(jobwireJobOf({ id: 'img42', record: 42 }, 'img42')).toBeUndefined();
  });
});
