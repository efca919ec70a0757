import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { definePlugin, JobTracker, LocalPluginManager, MemoryBackend, type JobSnapshot } from '../../src/index.js';
import type { BackendDrivers, BackendHost, JobBackend, JobScheduler, ScheduleRecord, ScheduleState, ScheduleTick } from '../../src/backend/index.js';
import { codeOf } from '../helpers/codes.js';

function plugins() {
  const manager = new LocalPluginManager();
  manager.register(definePlugin({ name: 'report', input: z.object({ days: z.number().int().min(1) }), run: (input) => ({ days: input.days }) }));
  manager.register(definePlugin({ name: 'off', input: z.object({}), run: () => null }), {}, { enabled: false });
  return manager;
}

async function scheduled(tracker: JobTracker, key: string): Promise<JobSnapshot[]> {
  return (await tracker.list({ limit: 1000 })).jobs.filter((job) => job.scheduleKey === key).reverse();
}

describe('schedules on the memory backend (fake timers)', () => {
  let tracker: JobTracker;
  beforeEach(() => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 5, 23, 59, 0) }); // a Monday, 23:59 UTC
    tracker = new JobTracker({ plugins: plugins(), ttlMs: Infinity });
  });
  afterEach(async () => {
    const closing = tracker.close({ timeoutMs: 0 });
    await vi.runOnlyPendingTimersAsync();
    await closing;
    vi.useRealTimers();
  });

  it('an everyMs schedule ticks at once, then every everyMs; each tick submits one ordinary job with scheduleKey', async () => {
    const info = await tracker.schedule('sync', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: { tenantId: 'acme', priority: 3 } });
    expect(info).toMatchObject({ key: 'sync', everyMs: 60_000, plugin: 'report' });
    await vi.advanceTimersByTimeAsync(0);
    expect(await scheduled(tracker, 'sync')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(await scheduled(tracker, 'sync')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(120_000);
    const jobs = await scheduled(tracker, 'sync');
    expect(jobs).toHaveLength(4);
    expect(jobs.map((job) => Date.parse(job.createdAt) - Date.UTC(2026, 0, 5, 23, 59, 0))).toEqual([0, 60_000, 120_000, 180_000]);
    for (const job of jobs) expect(job).toMatchObject({ plugin: 'report', input: { days: 1 }, tenantId: 'acme', priority: 3, status: 'completed' });
    expect((await tracker.schedules())[0]?.next).toBe(new Date(Date.UTC(2026, 0, 6, 0, 3, 0)).toISOString());
  });

  it('a cron schedule ticks at its times, in its time zone', async () => {
    // 09:00 in Tokyo is 00:00 UTC.
    await tracker.schedule('morning', { cron: '0 9 * * *', tz: 'Asia/Tokyo', plugin: 'report', input: { days: 7 } });
    expect(await tracker.schedules()).toEqual([{ key: 'morning', cron: '0 9 * * *', tz: 'Asia/Tokyo', plugin: 'report', next: new Date(Date.UTC(2026, 0, 6, 0, 0, 0)).toISOString() }]);
    await vi.advanceTimersByTimeAsync(59_999);
    expect(await scheduled(tracker, 'morning')).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(await scheduled(tracker, 'morning')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(86_400_000);
    expect((await scheduled(tracker, 'morning')).map((job) => job.createdAt)).toEqual([new Date(Date.UTC(2026, 0, 6)).toISOString(), new Date(Date.UTC(2026, 0, 7)).toISOString()]);
  });

  it('an upsert replaces the schedule; the same schedule again keeps its next tick; unschedule stops it', async () => {
    await tracker.schedule('sync', { everyMs: 60_000, plugin: 'report', input: { days: 1 } });
    await vi.advanceTimersByTimeAsync(30_000);
    await tracker.schedule('sync', { everyMs: 60_000, plugin: 'report', input: { days: 1 } });
    await vi.advanceTimersByTimeAsync(0);
    expect(await scheduled(tracker, 'sync')).toHaveLength(1); // no extra tick
    await tracker.schedule('sync', { everyMs: 10_000, plugin: 'report', input: { days: 2 } });
    await vi.advanceTimersByTimeAsync(10_000);
    const jobs = await scheduled(tracker, 'sync');
    expect(jobs.map((job) => job.input)).toEqual([{ days: 1 }, { days: 2 }, { days: 2 }]);
    expect(await tracker.unschedule('sync')).toBe(true);
    expect(await tracker.unschedule('sync')).toBe(false);
    await vi.advanceTimersByTimeAsync(600_000);
    expect(await scheduled(tracker, 'sync')).toHaveLength(3);
    expect(await tracker.schedules()).toEqual([]);
  });

  it('refuses bad schedules with typed errors and keeps none', async () => {
    const cases: [string, unknown, unknown][] = [
      ['INVALID_REQUEST', '', { everyMs: 60_000, plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { cron: '* * * * *', everyMs: 60_000, plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { everyMs: 10, plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { cron: 'every day', plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { cron: 'H * * * *', plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { cron: '0 H(0-5) * * *', plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k\u0000', { everyMs: 60_000, plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'line\nbreak', { everyMs: 60_000, plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { cron: '0 9 * * *', tz: 'Mars/Olympus', plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { everyMs: 60_000, tz: 'UTC', plugin: 'report', input: { days: 1 } }],
      ['INVALID_REQUEST', 'k', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: { idempotencyKey: 'x' } }],
      ['INVALID_REQUEST', 'k', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: { delayMs: 5 } }],
      ['INVALID_REQUEST', 'k', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: { priority: 'high' } }],
      ['INVALID_REQUEST', 'k', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, when: 'now' }],
      ['PLUGIN_NOT_FOUND', 'k', { everyMs: 60_000, plugin: 'nope', input: {} }],
      ['PLUGIN_DISABLED', 'k', { everyMs: 60_000, plugin: 'off', input: {} }],
      ['INVALID_INPUT', 'k', { everyMs: 60_000, plugin: 'report', input: { days: 0 } }],
    ];
    for (const [code, key, options] of cases) expect(await codeOf(tracker.schedule(key as string, options as never)), JSON.stringify(options)).toBe(code);
    expect(await tracker.schedules()).toEqual([]);
  });

  it('input and metadata are bounded as a submit bounds them: a schedule whose every job would be refused is refused', async () => {
    const manager = plugins().register(definePlugin({ name: 'note', input: z.object({ note: z.string() }), run: () => null }));
    const bounded = new JobTracker({ plugins: manager, limits: { inputBytes: 100, metadataBytes: 100 } });
    try {
      const big = 'x'.repeat(200);
      expect(await codeOf(bounded.submit('note', { note: big }))).toBe('INVALID_INPUT'); // what a tick would meet
      expect(await codeOf(bounded.schedule('big-input', { everyMs: 60_000, plugin: 'note', input: { note: big } }))).toBe('INVALID_INPUT');
      expect(await codeOf(bounded.schedule('big-metadata', { everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: { metadata: { note: big } } }))).toBe('INVALID_REQUEST');
      expect(await bounded.schedules()).toEqual([]);
    } finally {
      await bounded.close({ timeoutMs: 0 });
    }
  });

  it('an unknown time zone is named as such', async () => {
    const error = await tracker.schedule('k', { cron: '0 9 * * *', tz: 'Mars/Olympus', plugin: 'report', input: { days: 1 } }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ code: 'INVALID_REQUEST', message: expect.stringMatching(/Unknown time zone "Mars\/Olympus"/) });
  });

  it('an H (hash) cron pattern is refused (it would tick at random times); day names with an H are read', async () => {
    expect(await codeOf(tracker.schedule('hashed', { cron: 'H * * * *', plugin: 'report', input: { days: 1 } }))).toBe('INVALID_REQUEST');
    expect((await tracker.schedule('thursdays', { cron: '0 9 * * THU', tz: 'UTC', plugin: 'report', input: { days: 7 } })).next).toBe(new Date(Date.UTC(2026, 0, 8, 9)).toISOString());
  });

  it('a new input on the same timing keeps the next tick (no extra job, the grid stays)', async () => {
    await tracker.schedule('sync', { everyMs: 3_600_000, plugin: 'report', input: { days: 1 } });
    await vi.advanceTimersByTimeAsync(60_000);
    await tracker.schedule('sync', { everyMs: 3_600_000, plugin: 'report', input: { days: 2 } });
    await vi.advanceTimersByTimeAsync(0);
    expect((await scheduled(tracker, 'sync')).map((job) => job.input)).toEqual([{ days: 1 }]);
    expect((await tracker.schedules())[0]?.next).toBe(new Date(Date.UTC(2026, 0, 5, 23, 59, 0) + 3_600_000).toISOString());
    await vi.advanceTimersByTimeAsync(3_540_000);
    expect((await scheduled(tracker, 'sync')).map((job) => job.input)).toEqual([{ days: 1 }, { days: 2 }]);
  });

  it('close() stops the ticks', async () => {
    await tracker.schedule('sync', { everyMs: 60_000, plugin: 'report', input: { days: 1 } });
    await vi.advanceTimersByTimeAsync(0);
    await tracker.close({ timeoutMs: 0 });
    await vi.advanceTimersByTimeAsync(600_000);
    expect(await scheduled(tracker, 'sync')).toHaveLength(1);
    expect(await codeOf(tracker.schedule('other', { everyMs: 60_000, plugin: 'report', input: { days: 1 } }))).toBe('CLOSED');
  });
});

/** A backend whose scheduler hands every tick out twice, as a shared one may after a worker died mid-tick. */
class DoubleTickBackend implements JobBackend {
  readonly memory = new MemoryBackend();
  tick: ((tick: ScheduleTick) => Promise<void>) | undefined;
  open(host: BackendHost): BackendDrivers {
    const drivers = this.memory.open(host);
    const backend = this;
    const scheduler: JobScheduler = {
      upsert: (_schedule: ScheduleRecord) => Promise.resolve(),
      remove: () => Promise.resolve(false),
      list: (): Promise<ScheduleState[]> => Promise.resolve([]),
      start(tick) {
        backend.tick = tick;
        return Promise.resolve();
      },
      stop: () => Promise.resolve(),
    };
    return { ...drivers, scheduler };
  }
}

describe('a tick handed out twice', () => {
  it('submits one job (the tick names it)', async () => {
    const backend = new DoubleTickBackend();
    const tracker = new JobTracker({ plugins: plugins(), backend });
    await tracker.schedules(); // opened
    const schedule: ScheduleRecord = { key: 'sync', cron: undefined, tz: undefined, everyMs: 60_000, plugin: 'report', input: { days: 1 }, options: {} };
    await backend.tick!({ schedule, at: 1_000 });
    await backend.tick!({ schedule, at: 1_000 });
    await backend.tick!({ schedule, at: 61_000 });
    expect((await tracker.list()).jobs.filter((job) => job.scheduleKey === 'sync')).toHaveLength(2);
    await tracker.close();
  });

  it('a backend without a scheduler refuses schedules with INVALID_CONFIG', async () => {
    const memory = new MemoryBackend();
    const backend: JobBackend = {
      open(host) {
        const { scheduler: _none, ...rest } = memory.open(host);
        return rest;
      },
    };
    const tracker = new JobTracker({ plugins: plugins(), backend });
    expect(await codeOf(tracker.schedule('k', { everyMs: 60_000, plugin: 'report', input: { days: 1 } }))).toBe('INVALID_CONFIG');
    expect(await codeOf(tracker.schedules())).toBe('INVALID_CONFIG');
    await tracker.close();
  });
});
