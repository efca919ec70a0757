import { mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { JobwireError, messageOf } from '../errors.js';
import { createJobId, isValidJobId } from '../ids.js';
import { logDebug, silentLogger, type Logger } from '../logger.js';
import { matchesResultQuery, normalizeLimit, serializeResult } from './query.js';
import type { ResultPage, ResultQuery, ResultStorage, StoredResult } from './types.js';

/** Options for {@link FileResultStorage}. */
export interface FileResultStorageOptions {
  /** Folder for the result files; created when missing, and made again if it is removed later. */
  dir: string;
  /**
   * Where to report what a caller is not told: a result file that cannot be read or parsed is
   * skipped by `list` (warn), a temp file that could not be removed after a failed save (debug).
   * Default: silent.
   */
  logger?: Logger;
}

const SUFFIX = '.json';

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT';
}

function storageError(action: string, jobId: string, error: unknown): JobwireError {
  return new JobwireError('STORAGE_FAILED', `Could not ${action} result of job ${jobId}: ${messageOf(error)}`, { cause: error });
}

/** Newest first: by `finishedAt`, then by job id, both descending. */
function compareNewestFirst(a: StoredResult, b: StoredResult): number {
  if (a.finishedAt !== b.finishedAt) return a.finishedAt < b.finishedAt ? 1 : -1;
  return a.jobId < b.jobId ? 1 : a.jobId > b.jobId ? -1 : 0;
}

function encodeFileCursor(record: StoredResult): string {
  return Buffer.from(JSON.stringify([record.finishedAt, record.jobId])).toString('base64url');
}

function decodeFileCursor(cursor: string): StoredResult | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(value) && value.length === 2 && typeof value[0] === 'string' && isValidJobId(value[1])) {
      return { finishedAt: value[0], jobId: value[1] } as StoredResult;
    }
  } catch {
    // Not base64url JSON: reported below as an invalid cursor.
  }
  return undefined;
}

/**
 * One JSON file per job in a folder. Each save writes a temp file, flushes it and renames it into
 * place, so a crash never leaves a torn file. File names come only from validated job ids
 * (`[A-Za-z0-9_-]`), so no id can reach outside the folder. `list` reads the folder, so it
 * suits thousands of results, not millions.
 *
 * @example
 * ```ts
 * const storage = new FileResultStorage({ dir: './results' });
 * ```
 */
export class FileResultStorage implements ResultStorage {
  /** Absolute path of the folder. */
  readonly dir: string;
  #ready: Promise<unknown> | undefined;
  readonly #logger: Logger;

  constructor(options: FileResultStorageOptions) {
    if (typeof options?.dir !== 'string' || options.dir === '') {
      throw new JobwireError('INVALID_CONFIG', 'FileResultStorage needs a `dir` (a non-empty string)');
    }
    this.dir = resolve(options.dir);
    this.#logger = options.logger ?? silentLogger;
  }

  async save(record: StoredResult): Promise<void> {
    const json = serializeResult(record);
    const target = this.#path(record.jobId);
    try {
      await this.#ensureDir();
      if (await this.#exists(target)) return;
      try {
        await this.#write(record.jobId, json, target);
      } catch (error) {
        if (!isMissing(error)) throw error;
        // The folder was removed after it was made (a cleanup, an operator): make it again, once.
        this.#ready = undefined;
        await this.#ensureDir();
        await this.#write(record.jobId, json, target);
      }
    } catch (error) {
      throw storageError('save', record.jobId, error);
    }
  }

  async get(jobId: string): Promise<StoredResult | undefined> {
    if (!isValidJobId(jobId)) return undefined;
    let text: string;
    try {
      text = await readFile(this.#path(jobId), 'utf8');
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw storageError('read', jobId, error);
    }
    try {
      return JSON.parse(text) as StoredResult;
    } catch (error) {
      throw storageError('parse', jobId, error);
    }
  }

  async list(query: ResultQuery = {}): Promise<ResultPage> {
    const limit = normalizeLimit(query.limit);
    let after: StoredResult | undefined;
    if (query.cursor !== undefined) {
      after = decodeFileCursor(query.cursor);
      if (!after) throw new JobwireError('INVALID_REQUEST', 'Invalid cursor');
    }
    const all = await this.#readAll();
    const matching = all.filter((record) => matchesResultQuery(record, query) && (!after || compareNewestFirst(after, record) < 0));
    matching.sort(compareNewestFirst);
    const results = matching.slice(0, limit);
    const last = results.at(-1);
    return matching.length > limit && last ? { results, nextCursor: encodeFileCursor(last) } : { results };
  }

  async delete(jobId: string): Promise<boolean> {
    if (!isValidJobId(jobId)) return false;
    try {
      await unlink(this.#path(jobId));
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw storageError('delete', jobId, error);
    }
  }

  /** Write `json` to a temp file in the folder, flush it and rename it to `target`. */
  async #write(jobId: string, json: string, target: string): Promise<void> {
    const temp = join(this.dir, `.${jobId}.${createJobId()}.tmp`);
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(json, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    try {
      await rename(temp, target);
    } catch (error) {
      await unlink(temp).catch(logDebug(this.#logger, 'could not remove a temp result file', { jobId, file: temp })); // the rename error is the one to throw
      throw error;
    }
  }

  #path(jobId: string): string {
    return join(this.dir, jobId + SUFFIX);
  }

  #ensureDir(): Promise<unknown> {
    this.#ready ??= mkdir(this.dir, { recursive: true }).catch((error: unknown) => {
      this.#ready = undefined; // let the next save try again
      throw error;
    });
    return this.#ready;
  }

  async #exists(path: string): Promise<boolean> {
    try {
      await (await open(path, 'r')).close();
      return true;
    } catch (error) {
      if (isMissing(error)) return false;
      throw error;
    }
  }

  async #readAll(): Promise<StoredResult[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (isMissing(error)) return [];
      throw new JobwireError('STORAGE_FAILED', `Could not list results in ${this.dir}: ${messageOf(error)}`, { cause: error });
    }
    const records: StoredResult[] = [];
    for (const name of names) {
      if (!name.endsWith(SUFFIX) || !isValidJobId(name.slice(0, -SUFFIX.length))) continue;
      const jobId = name.slice(0, -SUFFIX.length);
      try {
        const record = await this.get(jobId);
        if (record) records.push(record);
      } catch (error) {
        // One unreadable file must not hide every other result: skipped here, reported by get().
        this.#logger.warn({ err: error, jobId, file: join(this.dir, name) }, `jobwire: result listing skipped an unreadable file: ${messageOf(error)}`);
      }
    }
    return records;
  }
}
