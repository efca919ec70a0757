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
      { ...good, prefix: 'x{}' },
      { ...good, prefix: 'x{y' },
      { ...good, prefix: 'x}y{' },
      { ...good, prefix: '{a}{b}' },
      { ...good, prefix: '{a:b}' },
      { ...good, connection: { cluster: [] }, prefix: '{a}' },
      { ...good, connection: { cluster: ['127.0.0.1:7000'] }, prefix: '{a}' },
      { ...good, connection: { cluster: [{ host: '127.0.0.1' }] }, prefix: '{a}' },
      { ...good, connection: { cluster: ['redis://127.0.0.1:7000'], clusterOptions: 1 }, prefix: '{a}' },
      // A cluster needs a hash tag in the prefix: BullMQ's keys of a queue must share a slot.
      { ...good, connection: { cluster: ['redis://127.0.0.1:7000'] } },
      { ...good, connection: { cluster: ['redis://127.0.0.1:7000'] }, prefix: 'media' },
      { ...good, role: 'boss' },
      { ...good, concurrency: 0 },
      { ...good, stalled: { lockDurationMs: -1 } },
    ]) {
      expect(thrownCode(() => new BullMQBackend(bad as never)), JSON.stringify(bad)).toBe('INVALID_CONFIG');
    }
    expect(new BullMQBackend({ ...good, role: 'worker' }).role).toBe('worker');
    // Hash tags, as BullMQ documents them for Redis Cluster.
    for (const prefix of ['{media}', 'x{y}', '{jobwire}.eu', 'app-{media}-1']) expect(thrownCode(() => new BullMQBackend({ ...good, prefix })), prefix).toBeUndefined();
    const cluster = { cluster: ['redis://127.0.0.1:7000', { host: '127.0.0.1', port: 7001 }], clusterOptions: { redisOptions: { password: 'p' } } };
    expect(thrownCode(() => new BullMQBackend({ ...good, connection: cluster, prefix: '{media}' }))).toBeUndefined();
  });

  it('a missing optional peer is a typed error saying what to install', async () => {
    expect(await codeOf(importOptional('bullmq-that-is-not-installed', 'bullmq ioredis', 'jobwire/bullmq'))).toBe('INVALID_CONFIG');
    await expect(importOptional('bullmq-that-is-not-installed', 'bullmq ioredis', 'jobwire/bullmq')).rejects.toThrow(/npm install bullmq ioredis/);
    expect(await codeOf(importOptional('bullmq', 'bullmq ioredis', 'jobwire/bullmq'))).toBeUndefined();
  });
});
