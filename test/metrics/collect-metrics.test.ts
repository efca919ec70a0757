import { Registry } from 'prom-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager } from '../../src/index.js';
import { collectMetrics } from '../../src/metrics/index.js';
import { openJobStream } from '../../src/sse/index.js';
import { codeOf } from '../helpers/codes.js';
import { controlledPlugin } from '../helpers/controlled.js';
import { parsePrometheus, valueOf } from '../helpers/prometheus.js';

const echo = definePlugin({ name: 'echo', input: z.object({ fail: z.boolean().default(false) }), run: async (input) => (input.fail ? Promise.reject(new Error('no')) : { ok: true }) });

describe('collectMetrics (prom-client)', () => {
  let tracker: JobTracker;
  let control: ReturnType<typeof controlledPlugin>;
  let registry: Registry;

  beforeEach(() => {
    control = controlledPlugin();
    tracker = new JobTracker({ plugins: new LocalPluginManager().register(echo).register(control.plugin) });
    registry = new Registry();
  });
  afterEach(() => tracker.close({ timeoutMs: 0 }));

  it('counts ended jobs, observes durations and waits, reports states and open SSE streams', async () => {
    await collectMetrics(tracker, { registry });
    for (const fail of [false, false, true]) await tracker.wait((await tracker.submit('echo', { fail }, { tenantId: 'acme' })).id);
    const live = await tracker.submit('controlled', {});
    await control.started(live.id);
    const queuedThenCancelled = await tracker.submit('echo', {});
    await tracker.cancel(queuedThenCancelled.id).catch(() => undefined);
    const stream = await openJobStream(tracker, live.id);

    const samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, 'jobwire_jobs_total', { plugin: 'echo', status: 'completed' })).toBeGreaterThanOrEqual(2);
    expect(valueOf(samples, 'jobwire_jobs_total', { plugin: 'echo', status: 'failed' })).toBe(1);
    expect(valueOf(samples, 'jobwire_job_duration_seconds_count', { plugin: 'echo', status: 'failed' })).toBe(1);
    expect(valueOf(samples, 'jobwire_queue_wait_seconds_count', { plugin: 'controlled' })).toBe(1);
    expect(valueOf(samples, 'jobwire_jobs_in_state', { state: 'running' })).toBe(1);
    expect(valueOf(samples, 'jobwire_sse_streams')).toBe(1);
    // No tenant label unless asked for.
    expect(samples.some((s) => 'tenant' in s.labels)).toBe(false);
    stream.close();
    expect(valueOf(parsePrometheus(await registry.metrics()), 'jobwire_sse_streams')).toBe(0);
  });

  it('counts retried tries by error code; a retry’s backoff is not observed as queue wait', async () => {
    await collectMetrics(tracker, { registry });
    const job = await tracker.wait((await tracker.submit('echo', { fail: true }, { attempts: 3, backoff: { type: 'fixed', delayMs: 5 } })).id);
    expect(job.attempt).toBe(3);
    const samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, 'jobwire_job_retries_total', { plugin: 'echo', code: 'PLUGIN_FAILED' })).toBe(2);
    expect(valueOf(samples, 'jobwire_queue_wait_seconds_count', { plugin: 'echo' })).toBe(1);
    expect(valueOf(samples, 'jobwire_jobs_total', { plugin: 'echo', status: 'failed' })).toBe(1);
  });

  it('tenantLabel adds the tenant; stop() removes the metrics and stops counting', async () => {
    const collector = await collectMetrics(tracker, { registry, tenantLabel: true, prefix: 'app_jobs_' });
    await tracker.wait((await tracker.submit('echo', {}, { tenantId: 'acme' })).id);
    let samples = parsePrometheus(await registry.metrics());
    expect(valueOf(samples, 'app_jobs_jobs_total', { plugin: 'echo', status: 'completed', tenant: 'acme' })).toBe(1);
    expect(collector.names).toContain('app_jobs_sse_streams');
    collector.stop();
    await tracker.wait((await tracker.submit('echo', {})).id);
    samples = parsePrometheus(await registry.metrics());
    expect(samples.filter((s) => s.name.startsWith('app_jobs_'))).toEqual([]);
    // A new collector on the same registry starts from zero (nothing left registered).
    await collectMetrics(tracker, { registry, prefix: 'app_jobs_' });
  });

  it('refuses a missing registry with INVALID_CONFIG', async () => {
    expect(await codeOf(collectMetrics(tracker, {} as never))).toBe('INVALID_CONFIG');
  });
});
