import { JobwireError, messageOf, type JobwireErrorCode } from '../errors.js';

/**
 * Bounds on what a job may carry. Everything a job holds is JSON that every reader (listings, SSE,
 * other processes) serialises again, so a value that cannot be serialised, or only at great cost,
 * is refused when it is accepted — never stored to break readers later.
 */
export interface JobLimits {
  /** Deepest nesting of objects and arrays in an input, metadata or result. @default 64 */
  jsonDepth: number;
  /** Largest input, as JSON text (characters). @default 1_048_576 (1 MiB) */
  inputBytes: number;
  /** Largest metadata, as JSON text. @default 65_536 (64 KiB) */
  metadataBytes: number;
  /** Largest result, as JSON text. @default 16_777_216 (16 MiB) */
  resultBytes: number;
  /** Longer error and progress messages are cut to this many characters. @default 2_048 */
  messageLength: number;
}

/** The defaults of {@link JobLimits}. */
export const DEFAULT_JOB_LIMITS: Readonly<JobLimits> = Object.freeze({
  jsonDepth: 64,
  inputBytes: 1_048_576,
  metadataBytes: 65_536,
  resultBytes: 16_777_216,
  messageLength: 2_048,
});

/** The deepest nesting of arrays and objects in JSON text (what is inside strings does not count). */
function nestingOf(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 92) i++; // a backslash: the next character is escaped
      else if (char === 34) inString = false;
    } else if (char === 34) {
      inString = true;
    } else if (char === 123 || char === 91) {
      if (++depth > deepest) deepest = depth;
    } else if (char === 125 || char === 93) {
      depth--;
    }
  }
  return deepest;
}

/** True for a RangeError (JSON.stringify's stack overflow), without trusting what was thrown. */
function isRangeError(thrown: unknown): boolean {
  try {
    return thrown instanceof RangeError;
  } catch {
    return false; // a revoked proxy, say: not ours
  }
}

/**
 * The JSON text of `value`, checked: serialisable (no cycle, no BigInt, no getter that throws), at
 * most `maxDepth` deep and `maxLength` characters. `undefined` serialises to `undefined` (nothing
 * to store). Serialising first does most of the checking in native code; only a text long enough to
 * be too deep (more than two characters per level) is scanned for its depth.
 * @throws JobwireError with `code` and a message naming `what` when it is not.
 */
export function checkedJson(value: unknown, what: string, maxDepth: number, maxLength: number, code: JobwireErrorCode): string | undefined {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    // A value nested without end overflows the serialiser's own recursion.
    const why = isRangeError(cause) ? `nested deeper than ${maxDepth} levels` : messageOf(cause);
    throw new JobwireError(code, `The ${what} cannot be stored as JSON: ${why}`, { cause });
  }
  if (text === undefined) return undefined;
  if (text.length > maxLength) throw new JobwireError(code, `The ${what} is too large: ${text.length} characters of JSON, at most ${maxLength}`);
  if (text.length > 2 * maxDepth && nestingOf(text) > maxDepth) throw new JobwireError(code, `The ${what} cannot be stored as JSON: nested deeper than ${maxDepth} levels`);
  return text;
}

/** `text` cut to `max` characters, saying how much was cut. */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
