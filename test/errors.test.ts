import { describe, expect, it } from 'vitest';
import { isJobwireError, JOBWIRE_ERROR_CODES, JobwireError } from '../src/index.js';

describe('JobwireError', () => {
  it('carries a code, details and cause, and serialises without the cause', () => {
    const cause = new Error('inner');
    const error = new JobwireError('INVALID_INPUT', 'bad', { cause, details: [{ path: ['a'] }] });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('JobwireError');
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.cause).toBe(cause);
    expect(JSON.parse(JSON.stringify(error))).toEqual({ code: 'INVALID_INPUT', message: 'bad', details: [{ path: ['a'] }] });
  });

  it('isJobwireError works across copies of the class (by name and code), and refuses look-alikes', () => {
    expect(isJobwireError(new JobwireError('CLOSED', 'x'))).toBe(true);
    expect(isJobwireError({ name: 'JobwireError', code: 'CLOSED', message: 'from another realm' })).toBe(true);
    expect(isJobwireError(new Error('x'))).toBe(false);
    expect(isJobwireError({ name: 'JobwireError' })).toBe(false);
    expect(isJobwireError(null)).toBe(false);
  });

  it('lists every documented code', () => {
    expect(JOBWIRE_ERROR_CODES).toEqual([
      'INVALID_INPUT', 'INVALID_CONFIG', 'PLUGIN_NOT_FOUND', 'PLUGIN_DISABLED', 'JOB_NOT_FOUND', 'RESULT_NOT_FOUND', 'QUEUE_FULL',
      'TIMEOUT', 'CANCELLED', 'CLOSED', 'PLUGIN_FAILED', 'STORAGE_FAILED', 'INVALID_REQUEST', 'PAYLOAD_TOO_LARGE', 'FORBIDDEN', 'UNAVAILABLE',
    ]);
  });
});
