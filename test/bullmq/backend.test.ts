import { describe } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { testJobBackend } from '../conformance/job-backend.js';
import { deleteKeys, REDIS_URL, redisAnswers, uniquePrefix } from '../helpers/redis.js';

const redisUp = await redisAnswers();
if (!redisUp) console.warn('SKIPPED: BullMQ backend tests — no Redis answers on 127.0.0.1:6379 (.ci/run starts one)');

const prefix = uniquePrefix();
let queue = 0;
let queueName = '';

describe.skipIf(!redisUp)('BullMQ backend on a real Redis', () => {
  testJobBackend('bullmq', {
    makeTracker: (options) => {
      queueName = `conformance-${++queue}`;
      return new JobTracker({ ...options, backend: new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role: 'both' }) });
    },
    shared: {
      observe: async (options) => new JobTracker({ ...options, backend: new BullMQBackend({ connection: REDIS_URL, queueName, prefix, role: 'producer' }) }),
    },
    cleanup: () => deleteKeys(prefix),
  });
});
