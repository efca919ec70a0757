import { JobwireError } from '../errors.js';
import { decodeCursor, encodeCursor, OrderedIndex } from '../ordered-index.js';
import { matchesResultQuery, normalizeLimit, serializeResult } from './query.js';
import type { ResultPage, ResultQuery, ResultStorage, StoredResult } from './types.js';

interface Entry {
  readonly order: number;
  readonly json: string;
  readonly record: StoredResult;
}

/**
 * Results kept in this process's memory, as JSON copies (so they behave like any other storage:
 * later changes to the saved object do not leak in). Lost on restart.
 *
 * @example
 * ```ts
 * const tracker = new JobTracker({ plugins, storage: new MemoryResultStorage() });
 * ```
 */
export class MemoryResultStorage implements ResultStorage {
  readonly #byId = new Map<string, Entry>();
  readonly #index = new OrderedIndex<Entry>();

  async save(record: StoredResult): Promise<void> {
    const json = serializeResult(record);
    if (this.#byId.has(record.jobId)) return;
    const entry: Entry = { order: this.#index.takeOrder(), json, record: JSON.parse(json) as StoredResult };
    this.#byId.set(record.jobId, entry);
    this.#index.push(entry);
  }

  async get(jobId: string): Promise<StoredResult | undefined> {
    const entry = this.#byId.get(jobId);
    return entry && (JSON.parse(entry.json) as StoredResult);
  }

  async list(query: ResultQuery = {}): Promise<ResultPage> {
    const limit = normalizeLimit(query.limit);
    let before: number | undefined;
    if (query.cursor !== undefined) {
      before = decodeCursor(query.cursor);
      if (before === undefined) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const results: StoredResult[] = [];
    let last: Entry | undefined;
    let more = false;
    this.#index.forEachNewestFirst(before, (entry) => {
      if (!matchesResultQuery(entry.record, query)) return true;
      if (results.length === limit) {
        more = true;
        return false;
      }
      results.push(JSON.parse(entry.json) as StoredResult);
      last = entry;
      return true;
    });
    return more && last ? { results, nextCursor: encodeCursor(last.order) } : { results };
  }

  async delete(jobId: string): Promise<boolean> {
    const entry = this.#byId.get(jobId);
    if (!entry) return false;
    this.#byId.delete(jobId);
    this.#index.delete(entry);
    return true;
  }
}
