import { describe } from 'vitest';
import { JobTracker } from '../../src/index.js';
import { BullMQBackend } from '../../src/bullmq/index.js';
import { testJobBackend } from '../conformance/job-backend.js';
import { deleteQueues, POSTGRES_URL, postgresAnswers } from '../helpers/postgres.js';

const postgresUp = await postgresAnswers();
if (!postgresUp) console.warn('SKIPPED: BullMQ-on-PostgreSQL backend tests — no PostgreSQL answers on 127.0.0.1:5432');

const prefix = `jwtest${process.pid}${Date.now().toString(36)}`;
let queue = 0;
let queueName = '';

describe.skipIf(!postgresUp)('BullMQ backend on a real PostgreSQL', () => {
  testJobBackend('bullmq (postgres)', {
    makeTracker: (options) => {
      queueName = `${prefix}-conformance-${++queue}`; // BullMQ on PostgreSQL keys queues by name alone
      return new JobTracker({ ...options, backend: new BullMQBackend({ connection: POSTGRES_URL, queueName, prefix, role: 'both', stalled: { stalledIntervalMs: 1_000, lockDurationMs: 5_000 } }) });
    },
    shared: {
      observe: async (options) => new JobTracker({ ...options, backend: new BullMQBackend({ connection: POSTGRES_URL, queueName, prefix, role: 'producer' }) }),
    },
    cleanup: () => deleteQueues(prefix),
  });
});
