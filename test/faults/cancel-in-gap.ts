import { expect } from 'vitest';
import type { JobEvent, JobSnapshot, JobTracker } from '../../src/index.js';
import type { FixturePlugins } from '../../src/testing/index.js';
import { until } from '../helpers/deferred.js';
import type { GateProxy } from './gate-proxy.js';

/** What a test of a cancel sent while the worker's bus was down has in hand when it opens the gate. */
export interface CancelInGap {
  gate: GateProxy;
  fx: FixturePlugins;
  /** The worker tracker (one slot) and another process's tracker that sent the cancel. */
  worker: JobTracker;
  producer: JobTracker;
  jobId: string;
  /** The job's events and its `wait`, both opened in the worker before the gap. */
  followed: Promise<JobEvent[]>;
  waited: Promise<JobSnapshot>;
}

/**
 * Release the held reconnect, then check the cancel sent in the gap reached the plugin (key `gap`
 * of the fixture's gate plugin), that what the worker followed caught up, and that the freed slot
 * runs the next job.
 */
export async function expectCancelReachesRunAfterGap({ gate, fx, worker, producer, jobId, followed, waited }: CancelInGap): Promise<void> {
  gate.release();
  await until(() => fx.aborted.has('gap'), 30_000, 'the cancel to reach the plugin after the reconnect');
  expect(fx.aborted.get('gap')).toMatchObject({ code: 'CANCELLED', message: 'during the gap' });
  expect((await followed).map((event) => event.type)).toEqual(['queued', 'started', 'cancelled']);
  expect(await waited).toMatchObject({ status: 'cancelled', error: { message: 'during the gap' } });
  // Its one slot is free: the next job runs.
  const next = await worker.submit('gate', { key: 'next' });
  await until(() => fx.started.includes('next'), 30_000, 'the next job to take the freed slot');
  fx.open('next');
  expect((await worker.wait(next.id, { timeoutMs: 20_000 })).status).toBe('completed');
  expect((await producer.get(jobId))?.status).toBe('cancelled');
}
