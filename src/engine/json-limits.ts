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

/** One object or array being walked, and how far through its values. */
interface Frame {
  readonly value: object;
  readonly values: readonly unknown[];
  readonly depth: number;
  index: number;
}

/**
 * Why `value` is not JSON within `maxDepth` levels, or `undefined` when it is. Walks without
 * recursion (a hostile value cannot overflow the stack) and reads every property once, inside a
 * try: a throwing getter, a revoked proxy, a cycle, a BigInt or a symbol is a problem, not a crash.
 */
function jsonProblem(value: unknown, maxDepth: number): string | undefined {
  const stack: Frame[] = [];
  const path = new Set<object>(); // the objects from the root to the one being walked
  const enter = (item: unknown, depth: number): string | undefined => {
    if (typeof item === 'bigint') return 'a BigInt';
    if (typeof item === 'symbol') return 'a symbol';
    if (typeof item !== 'object' || item === null) return undefined; // functions and undefined are left out by JSON
    if (depth > maxDepth) return `nested deeper than ${maxDepth} levels`;
    if (path.has(item)) return 'a cycle';
    path.add(item);
    stack.push({ value: item, values: Array.isArray(item) ? item : Object.values(item), depth, index: 0 });
    return undefined;
  };
  try {
    let problem = enter(value, 1);
    while (problem === undefined && stack.length > 0) {
      const frame = stack[stack.length - 1] as Frame;
      if (frame.index === frame.values.length) {
        path.delete(frame.value);
        stack.pop();
      } else {
        problem = enter(frame.values[frame.index++], frame.depth + 1);
      }
    }
    return problem;
  } catch (error) {
    return `unreadable (${messageOf(error)})`;
  }
}

/**
 * The JSON text of `value`, checked: serialisable, at most `maxDepth` deep and `maxLength`
 * characters. `undefined` serialises to `undefined` (nothing to store).
 * @throws JobwireError with `code` and a message naming `what` when it is not.
 */
export function checkedJson(value: unknown, what: string, maxDepth: number, maxLength: number, code: JobwireErrorCode): string | undefined {
  const problem = jsonProblem(value, maxDepth);
  if (problem) throw new JobwireError(code, `The ${what} cannot be stored as JSON: ${problem}`);
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (cause) {
    throw new JobwireError(code, `The ${what} cannot be stored as JSON: ${messageOf(cause)}`, { cause });
  }
  if (text !== undefined && text.length > maxLength) throw new JobwireError(code, `The ${what} is too large: ${text.length} characters of JSON, at most ${maxLength}`);
  return text;
}

/** `text` cut to `max` characters, saying how much was cut. */
export function boundedText(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
