import { messageOf } from '../errors.js';
import { checkedJson, type JobLimits } from '../engine/json-limits.js';

/** A chunk passed to `ctx.write`, as a tracker would keep it, or why a tracker would fail the job. */
export type CheckedChunk = { ok: true; value: unknown; json: string } | { ok: false; message: string };

/**
 * Check a chunk as a tracker checks what a plugin passes to `ctx.write`: a string, or a value JSON
 * can carry within `limits.jsonDepth` and `limits.resultBytes`. Other values are kept as their
 * JSON copy (what every reader of a tracker gets), beside their JSON text. Never throws. The one
 * check of a chunk: the engine and `runPlugin` both use it.
 */
export function checkedChunk(chunk: unknown, limits: Pick<JobLimits, 'jsonDepth' | 'resultBytes'>): CheckedChunk {
  if (typeof chunk === 'string') {
    const json = JSON.stringify(chunk);
    if (json.length > limits.resultBytes) return { ok: false, message: `ctx.write got a chunk too large: ${json.length} characters of JSON, at most ${limits.resultBytes}` };
    return { ok: true, value: chunk, json };
  }
  let json: string | undefined;
  try {
    json = checkedJson(chunk, 'chunk passed to ctx.write', limits.jsonDepth, limits.resultBytes, 'PLUGIN_FAILED');
  } catch (error) {
    return { ok: false, message: messageOf(error) };
  }
  if (json === undefined) return { ok: false, message: 'ctx.write expects a string or a JSON value, got undefined' };
  return { ok: true, value: JSON.parse(json), json };
}
