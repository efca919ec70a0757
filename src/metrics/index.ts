/** @module jobwire/metrics — Prometheus metrics through prom-client (an optional peer dependency). */
export { collectMetrics } from './collect-metrics.js';
export type { CollectMetricsOptions, MetricsCollector } from './collect-metrics.js';
