import { BullMQBackend, type BullMQBackendOptions } from '../../src/bullmq/index.js';

/**
 * The BullMQ backend of a test's forked process, on the database, queue and prefix its parent
 * names in the environment (`CONNECTION`, `QUEUE_NAME`, `PREFIX`), with the fixture's own role and
 * settings.
 */
export function backendFromEnv(options: Omit<BullMQBackendOptions, 'connection' | 'queueName' | 'prefix'>, defaultQueueName = 'jobs'): BullMQBackend {
  return new BullMQBackend({
    connection: process.env.CONNECTION ?? 'redis://127.0.0.1:6379',
    queueName: process.env.QUEUE_NAME ?? defaultQueueName,
    prefix: process.env.PREFIX ?? 'jobwire',
    ...options,
  });
}
