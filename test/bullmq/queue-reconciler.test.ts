import { afterEach, describe, expect, it, vi } from 'vitest';
import type { JobRecord } from '../../src/backend/job-record.js';
import type { RecordPage } from '../../src/backend/job-store.js';
import { QueueReconciler, VANISHED_REASON } from '../../src/bullmq/queue-reconciler.js';
import { silentLogger } from '../../src/logger.js';
import { queuedRecord } from '../../src/engine/records.js';
import { deferred, until } from '../helpers/deferred.js';

const record: JobRecord = queuedRecord('AAAAAAAAAAAAAAAAAAAAAA', { plugin: 'paint', input: {}, tenantId: undefined, workspaceId: undefined, metadata: {}, priority: 0, timeoutMs: undefined, idempotencyKey: undefined, attempts: undefined, backoff: undefined, retryOnTimeout: undefined, runAt: undefined, delayMs: undefined, retryOf: undefined, scheduleKey: undefined }, undefined, 1_000);

/** Every timer set before this one has fired, and what it started ran to its first wait. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));

describe("the reconciler that cancels jobs missing from BullMQ", () => {
  let reconciler: QueueReconciler | undefined;
  afterEach(async () => {
    await reconciler?.stop();
    reconciler = undefined;
    vi.useRealTimers();
  });

  it('cancels a missing job only once it has been missing for the interval, however soon rounds come (a cleaned event)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let looks = 0;
    const vanished: string[] = [];
    reconciler = new QueueReconciler({
      intervalMs: 60_000,
      listQueued: async (): Promise<RecordPage> => ({ records: [record] }),
      exists: async () => (looks++, false),
      vanished: (id, reason) => vanished.push(`${id}: ${reason}`),
      logger: silentLogger,
    });
    reconciler.start();
    for (let round = 1; round <= 3; round++) {
      reconciler.soon();
      await until(() => looks === round, 5_000, `round ${round}`);
      await settle();
    }
    expect(vanished).toEqual([]);
    vi.setSystemTime(Date.now() + 60_000);
    reconciler.soon();
    await until(() => vanished.length > 0, 5_000, 'the job to be cancelled');
    expect(vanished).toEqual([`${record.id}: ${VANISHED_REASON}`]);
  });

  it('never runs two rounds at once: one asked for during a round starts after it', async () => {
    const first = deferred<RecordPage>();
    let lists = 0;
    reconciler = new QueueReconciler({
      intervalMs: 60_000,
      listQueued: () => (++lists === 1 ? first.promise : Promise.resolve({ records: [] })),
      exists: async () => true,
      vanished: () => undefined,
      logger: silentLogger,
    });
    reconciler.start();
    reconciler.soon();
    await until(() => lists === 1, 5_000, 'the first round');
    reconciler.soon();
    await settle();
    expect(lists).toBe(1);
    first.resolve({ records: [record] });
    await until(() => lists === 2, 5_000, 'the round asked for meanwhile');
  });
});
