import { describe, expect, it } from 'vitest';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { importOptional } from '../../src/optional.js';
import { codeOf, thrownCode } from '../helpers/codes.js';

describe('BullMQBackend options and loading', () => {
  it('refuses bad options with INVALID_CONFIG before touching Redis', () => {
    const good = { connection: 'redis://127.0.0.1:6379', queueName: 'jobs' };
    expect(thrownCode(() => new BullMQBackend(good))).toBeUndefined();
    for (const bad of [
      {},
      { ...good, connection: 42 },
      { ...good, queueName: '' },
      { ...good, queueName: 'has space' },
      { ...good, queueName: 'a:b' },
      { ...good, prefix: 'x{y}' },
      { ...good, role: 'boss' },
      { ...good, concurrency: 0 },
      { ...good, stalled: { lockDurationMs: -1 } },
    ]) {
      expect(thrownCode(() => new BullMQBackend(bad as never)), JSON.stringify(bad)).toBe('INVALID_CONFIG');
    }
    expect(new BullMQBackend({ ...good, role: 'worker' }).role).toBe('worker');
  });

  it('a missing optional peer is a typed error saying what to install', async () => {
    expect(await codeOf(importOptional('bullmq-that-is-not-installed', 'bullmq ioredis', 'jobwire/bullmq'))).toBe('INVALID_CONFIG');
    await expect(importOptional('bullmq-that-is-not-installed', 'bullmq ioredis', 'jobwire/bullmq')).rejects.toThrow(/npm install bullmq ioredis/);
    expect(await codeOf(importOptional('bullmq', 'bullmq ioredis', 'jobwire/bullmq'))).toBeUndefined();
  });
});
