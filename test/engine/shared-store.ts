import type { JobStore } from '../../src/backend/index.js';
import type { Logger } from '../../src/logger.js';

/**
 * A store as a distributed backend's looks to the engine (`inProcess` false: its calls are bounded
 * by `storeTimeoutMs`, and `close()` releases the bus and connections), answering from `store`.
 */
export function sharedStore(store: JobStore): JobStore {
  return {
    inProcess: false,
    create: (record, at, limits) => store.create(record, at, limits),
    get: (id, now) => store.get(id, now),
    commit: (change) => store.commit(change),
    append: (batch) => store.append(batch),
    log: (id, now) => store.log(id, now),
    list: (query) => store.list(query),
    remove: (id) => store.remove(id),
    expire: (now, limit) => store.expire(now, limit),
    counts: (now) => store.counts(now),
  };
}

/** A logger that keeps what it is told, by level. */
export function recordingLogger(): Logger & { readonly lines: { level: string; msg: string; obj: object }[] } {
  const lines: { level: string; msg: string; obj: object }[] = [];
  const at = (level: string) => (obj: object, msg = '') => void lines.push({ level, msg, obj });
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
