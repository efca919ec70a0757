import { describe } from 'vitest';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { testJobBackend } from '../../src/testing/index.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ backend tests — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');

const prefix = uniquePrefix();
let queue = 0;
let queueName = '';

if (redisUp) {
  await testJobBackend('bullmq (redis)', {
    backend: () => {
      queueName = `conformance-${++queue}`;
      return new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role: 'both' });
    },
    observer: () => new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role: 'producer' }),
    cleanup: () => deleteKeys(prefix),
  });
} else {
  describe.skip('BullMQ backend on a real Redis', () => undefined);
}
