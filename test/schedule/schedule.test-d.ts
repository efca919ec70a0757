import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { definePlugin, type JobTracker, type ScheduleInfo } from '../../src/index.js';

const report = definePlugin({ name: 'report', input: z.object({ days: z.number() }), run: (input) => ({ days: input.days }) });
declare const tracker: JobTracker;

describe('the types of tracker.schedule', () => {
  it('types the input from a plugin definition', () => {
    expectTypeOf(tracker.schedule('ok', { everyMs: 60_000, plugin: report, input: { days: 1 } })).toEqualTypeOf<Promise<ScheduleInfo>>();
    // @ts-expect-error a wrong input for the plugin's schema
    void tracker.schedule('bad', { everyMs: 60_000, plugin: report, input: { days: 'one' } });
  });

  it('takes exactly one of cron and everyMs, and tz only with cron', () => {
    void tracker.schedule('cron', { cron: '0 3 * * *', tz: 'UTC', plugin: 'report', input: { days: 1 } });
    // @ts-expect-error both timings
    void tracker.schedule('both', { cron: '0 3 * * *', everyMs: 60_000, plugin: 'report', input: {} });
    // @ts-expect-error no timing
    void tracker.schedule('none', { plugin: 'report', input: {} });
    // @ts-expect-error a time zone for an interval
    void tracker.schedule('tz', { everyMs: 60_000, tz: 'UTC', plugin: 'report', input: {} });
  });
});
