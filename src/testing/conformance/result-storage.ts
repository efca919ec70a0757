import { isJobwireError } from '../../errors.js';
import type { ResultStorage, StoredResult } from '../../storage/types.js';
import { loadVitest } from './vitest-api.js';

/** The JobwireError code `promise` rejects with, or undefined when it resolves. */
async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise;
  } catch (error) {
    return isJobwireError(error) ? error.code : `not a JobwireError: ${String(error)}`;
  }
  return undefined;
}

/** How a storage's test file plugs into the shared suite. */
export interface StorageFixture {
  /** A fresh, empty storage. */
  make(): ResultStorage | Promise<ResultStorage>;
  /** A second instance over the same data, as after a restart (omit when there is no persistence). */
  reopen?(): ResultStorage | Promise<ResultStorage>;
  cleanup?(): Promise<void>;
}

let counter = 0;
/** A valid stored result, for storage tests: ids and times increase with each call. */
export function sampleStoredResult(overrides: Partial<StoredResult> = {}): StoredResult {
  counter++;
  return {
    jobId: `job${String(counter).padStart(6, '0')}xxxxxxxxxx`,
    plugin: { name: 'echo', title: 'Echo', version: '1.0.0' },
    input: { text: `in ${counter}` },
    result: { text: `out ${counter}` },
    metadata: {},
    createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, counter)).toISOString(),
    finishedAt: new Date(Date.UTC(2030, 0, 1, 0, 1, counter)).toISOString(),
    durationMs: 1000,
    ...overrides,
  };
}

/**
 * The behaviour every ResultStorage must show. Call it at the top level of a vitest test file,
 * awaited (it loads vitest, an optional peer).
 * @example
 * ```ts
 * await testResultStorage('my storage', { make: () => new MyStorage() });
 * ```
 */
export async function testResultStorage(name: string, fixture: StorageFixture): Promise<void> {
  const { afterEach, beforeEach, describe, expect, it } = await loadVitest();
  describe(`result storage conformance: ${name}`, () => {
    let storage: ResultStorage;
    beforeEach(async () => {
      storage = await fixture.make();
    });
    afterEach(async () => {
      await fixture.cleanup?.();
    });

    it('saves and reads back a record as JSON', async () => {
      const record = sampleStoredResult({ tenantId: 't', workspaceId: 'w', metadata: { tags: ['a'] } });
      await storage.save(record);
      expect(await storage.get(record.jobId)).toEqual(record);
      expect(await storage.get('missing-job-id')).toBeUndefined();
    });

    it('keeps the output a job wrote, as text or as chunks, with its gap flag; any string round-trips', async () => {
      const text = 'Hello\r\nworld\u0000 lone \ud800 \udc00 🎙️';
      const records = [
        sampleStoredResult({ output: { text } }),
        sampleStoredResult({ output: { text: 'newest part only', gap: true } }),
        sampleStoredResult({ output: { chunks: [{ start: 0.5, end: 1, text }, [1, 'two', null], 3, null, true, text, ''] } }),
        sampleStoredResult({ output: { chunks: [{ i: 7 }], gap: true } }),
        sampleStoredResult(),
      ];
      for (const record of records) await storage.save(record);
      for (const record of records) expect(await storage.get(record.jobId)).toEqual(record);
      expect((await storage.get(records[4]!.jobId))?.output).toBeUndefined();
      const listed = new Map((await storage.list()).results.map((r) => [r.jobId, r]));
      for (const record of records) expect(listed.get(record.jobId)).toEqual(record);
      if (fixture.reopen) {
        const reopened = await fixture.reopen();
        for (const record of records) expect(await reopened.get(record.jobId)).toEqual(record);
      }
    });

    it('a saved record does not change when the caller mutates its object afterwards', async () => {
      const record = sampleStoredResult();
      await storage.save(record);
      (record.result as { text: string }).text = 'mutated';
      expect(((await storage.get(record.jobId))?.result as { text: string }).text).not.toBe('mutated');
    });

    it('save is idempotent per jobId: the first record stays', async () => {
      const record = sampleStoredResult();
      await storage.save(record);
      await storage.save({ ...record, result: 'second' });
      expect((await storage.get(record.jobId))?.result).toEqual(record.result);
      expect((await storage.list()).results).toHaveLength(1);
    });

    it('lists newest first with tenant and plugin filters and cursor paging', async () => {
      const records = [
        sampleStoredResult({ tenantId: 'a' }),
        sampleStoredResult({ tenantId: 'b', plugin: { name: 'other', title: 'Other', version: '1' } }),
        sampleStoredResult({ tenantId: 'a' }),
        sampleStoredResult({ tenantId: 'a' }),
        sampleStoredResult({ tenantId: 'b' }),
      ];
      for (const record of records) await storage.save(record);
      const ids = (page: { results: StoredResult[] }) => page.results.map((r) => r.jobId);
      expect(ids(await storage.list())).toEqual(records.map((r) => r.jobId).reverse());
      expect(ids(await storage.list({ tenantId: 'a' }))).toEqual([records[3]!.jobId, records[2]!.jobId, records[0]!.jobId]);
      expect(ids(await storage.list({ plugin: 'other' }))).toEqual([records[1]!.jobId]);

      const seen: string[] = [];
      let page = await storage.list({ limit: 2 });
      seen.push(...ids(page));
      while (page.nextCursor) {
        page = await storage.list({ limit: 2, cursor: page.nextCursor });
        seen.push(...ids(page));
      }
      expect(seen).toEqual(records.map((r) => r.jobId).reverse());
      expect(await codeOf(storage.list({ cursor: '%%%' }))).toBe('INVALID_REQUEST');
      expect(await codeOf(storage.list({ limit: -1 }))).toBe('INVALID_REQUEST');
    });

    it('deletes', async () => {
      const record = sampleStoredResult();
      await storage.save(record);
      expect(await storage.delete(record.jobId)).toBe(true);
      expect(await storage.delete(record.jobId)).toBe(false);
      expect(await storage.get(record.jobId)).toBeUndefined();
      expect((await storage.list()).results).toEqual([]);
    });

    it('refuses ids that are not job ids, and unserialisable results, with typed errors', async () => {
      for (const jobId of ['../escape', 'a/b', '', 'x'.repeat(200), 'dot.dot']) {
        expect(await codeOf(storage.save(sampleStoredResult({ jobId }))), jobId).toBe('INVALID_REQUEST');
        expect(await storage.get(jobId)).toBeUndefined();
        expect(await storage.delete(jobId)).toBe(false);
      }
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      expect(await codeOf(storage.save(sampleStoredResult({ result: circular })))).toBe('STORAGE_FAILED');
      expect(await codeOf(storage.save(sampleStoredResult({ result: 10n })))).toBe('STORAGE_FAILED');
      expect((await storage.list()).results).toEqual([]);
    });

    // Only for storages that persist (the fixture says how to reopen them); not a skipped test elsewhere.
    if (fixture.reopen) it('survives a restart: get, list and delete on a new instance', async () => {
      const a = sampleStoredResult();
      const b = sampleStoredResult();
      await storage.save(a);
      await storage.save(b);
      const reopened = await fixture.reopen!();
      expect(await reopened.get(a.jobId)).toEqual(a);
      expect((await reopened.list()).results.map((r) => r.jobId)).toEqual([b.jobId, a.jobId]);
      expect(await reopened.delete(a.jobId)).toBe(true);
      expect(await storage.get(a.jobId)).toBeUndefined();
    });
  });
}
