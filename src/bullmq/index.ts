/**
 * @module jobwire/bullmq — the distributed backend: the same JobTracker API on BullMQ (Redis or
 * PostgreSQL), with producers and workers in separate processes. Needs the optional peers `bullmq`
 * and `ioredis` (Redis) or `pg` (PostgreSQL).
 */
export { BullMQBackend } from './bullmq-backend.js';
export type { BullMQBackendOptions, BullMQRole, BullMQConnection, BullMQClusterConnection } from './options.js';
