import { JobwireError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { JsonSchema } from '../plugin-manager/types.js';
import { SUBMIT_OPTION_KEYS } from '../tracker/options.js';
import { bodyKind, parseJsonObject, readBodyBytes } from './body.js';
import { booleanText, coerceField, isNumberText, OMIT, schemaAt } from './schema-coerce.js';

/** Keys that would reach an object's prototype if used as property names. */
const UNSAFE_KEYS = new Set(['__proto__', 'prototype', 'constructor']);
const NUMBER_OPTIONS = new Set(['priority', 'timeoutMs', 'attempts', 'delayMs']);
/** Options given as JSON text in a form. */
const JSON_OPTIONS = new Set(['metadata', 'backoff']);

/** A form's text for a boolean option: `true`/`on`/`1` or `false`/`off`/`0` (a checked checkbox sends `on`). */
function booleanOption(name: string, text: string): boolean {
  const value = booleanText(text);
  if (value !== undefined) return value;
  throw bad(`\`${name}\` must be true or false, got ${JSON.stringify(text)}`);
}

/** A form's `runAt`: decimal digits are epoch milliseconds, anything else stays text (an ISO 8601 date-time). */
function runAtOption(text: string): number | string {
  const trimmed = text.trim();
  return /^\d+$/.test(trimmed) ? Number(trimmed) : trimmed;
}

function bad(message: string): JobwireError {
  return new JobwireError('INVALID_REQUEST', message);
}

function parseJsonField(name: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw bad(`\`${name}\` must be JSON text`);
  }
}

function only(name: string, values: readonly string[]): string {
  if (values.length > 1) throw bad(`\`${name}\` given more than once`);
  return values[0] ?? '';
}

/** Put `value` at `path` inside `target`, creating objects on the way. */
function setPath(target: Record<string, unknown>, path: readonly string[], value: unknown, name: string): void {
  let node = target;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i] as string;
    const next = Object.hasOwn(node, key) ? node[key] : undefined;
    if (next === undefined) {
      const child: Record<string, unknown> = {};
      node[key] = child;
      node = child;
    } else if (typeof next === 'object' && next !== null && !Array.isArray(next)) {
      node = next as Record<string, unknown>;
    } else {
      throw bad(`\`${name}\` nests inside \`input.${path.slice(0, i + 1).join('.')}\`, which is a value`);
    }
  }
  const leaf = path[path.length - 1] as string;
  if (Object.hasOwn(node, leaf)) throw bad(`\`${name}\` is given both as a value and as an object`);
  node[leaf] = value;
}

/**
 * A submit body (`{ plugin, input, …options }`, as the JSON route takes it) from form fields:
 * `plugin`; `input` as JSON text, or `input.<name>` fields (dots nest) coerced by the plugin's input
 * JSON Schema; the submit options (`priority`, `timeoutMs`, `attempts` and `delayMs` as numbers,
 * `retryOnTimeout` as `true`/`on`/`1` or `false`/`off`/`0`, `runAt` as an ISO 8601 date-time or epoch
 * milliseconds, `metadata` and `backoff` as JSON text; an empty option field counts as not given).
 * @throws JobwireError `INVALID_REQUEST` for an unknown, repeated or malformed field.
 */
export function formToSubmitBody(entries: Iterable<[string, string]>, inputSchemaOf: (plugin: string) => JsonSchema | undefined): Record<string, unknown> {
  const fields = new Map<string, string[]>();
  for (const [name, value] of entries) {
    const values = fields.get(name);
    if (values) values.push(value);
    else fields.set(name, [value]);
  }
  const body: Record<string, unknown> = {};
  const inputFields: { name: string; path: string[]; values: string[] }[] = [];
  for (const [name, values] of fields) {
    if (name === 'plugin') {
      body.plugin = only(name, values);
    } else if (name === 'input') {
      body.input = parseJsonField(name, only(name, values));
    } else if (name.startsWith('input.')) {
      const path = name.slice('input.'.length).split('.');
      if (path.some((key) => key === '' || UNSAFE_KEYS.has(key))) throw bad(`Malformed field name \`${name}\``);
      inputFields.push({ name, path, values });
    } else if (SUBMIT_OPTION_KEYS.has(name)) {
      const text = only(name, values);
      if (text.trim() === '') continue;
      if (NUMBER_OPTIONS.has(name)) {
        if (!isNumberText(text)) throw bad(`\`${name}\` must be a number, got ${JSON.stringify(text)}`);
        body[name] = Number(text);
      } else if (name === 'retryOnTimeout') {
        body[name] = booleanOption(name, text);
      } else if (name === 'runAt') {
        body[name] = runAtOption(text);
      } else {
        body[name] = JSON_OPTIONS.has(name) ? parseJsonField(name, text) : text;
      }
    } else if (/^\s*[[{]/.test(name)) {
      // `curl -d '{…}'` without a Content-Type sends JSON as a form whose one field is the whole text.
      throw bad('The body was sent as a form but looks like JSON: send JSON with `Content-Type: application/json`');
    } else {
      throw bad(`Unknown field \`${name}\``);
    }
  }
  if (inputFields.length > 0) {
    if (Object.hasOwn(body, 'input')) throw bad('Give `input` as JSON text or as `input.<name>` fields, not both');
    const schema = typeof body.plugin === 'string' ? inputSchemaOf(body.plugin) : undefined;
    const input: Record<string, unknown> = {};
    for (const { name, path, values } of inputFields) {
      const value = coerceField(values, schemaAt(schema, path));
      if (value !== OMIT) setPath(input, path, value, name);
    }
    body.input = input;
  }
  // A form always has an input: no fields is an empty object, for plugins whose input is all defaults.
  if (!Object.hasOwn(body, 'input')) body.input = {};
  return body;
}

/** Form fields of a multipart body, refusing files (the routes take text only). */
async function multipartEntries(bytes: Buffer, contentType: string): Promise<[string, string][]> {
  let form: FormData;
  try {
    form = await new Response(new Uint8Array(bytes), { headers: { 'content-type': contentType } }).formData();
  } catch (error) {
    throw new JobwireError('INVALID_REQUEST', 'Malformed multipart/form-data body', { cause: error });
  }
  const entries: [string, string][] = [];
  let file: string | undefined;
  form.forEach((value, name) => {
    if (typeof value === 'string') entries.push([name, value]);
    else file ??= name;
  });
  if (file !== undefined) throw bad(`Field \`${file}\` is a file; only text fields are accepted`);
  return entries;
}

/**
 * Read the body of `POST /jobs`: JSON, `application/x-www-form-urlencoded` or `multipart/form-data`,
 * at most `maxBytes` (counted as the bytes stream in, whatever the type). Form fields become the
 * same `{ plugin, input, …options }` object a JSON body is.
 * @throws JobwireError `PAYLOAD_TOO_LARGE`, or `INVALID_REQUEST` for a wrong type or malformed body.
 */
export async function readSubmitBody(request: Request, maxBytes: number, inputSchemaOf: (plugin: string) => JsonSchema | undefined, logger?: Logger): Promise<Record<string, unknown>> {
  const contentType = request.headers.get('content-type');
  const kind = bodyKind(contentType);
  const bytes = await readBodyBytes(request, maxBytes, logger);
  if (kind === 'json') return parseJsonObject(bytes);
  const entries = kind === 'urlencoded' ? new URLSearchParams(bytes.toString('utf8')) : await multipartEntries(bytes, contentType ?? '');
  return formToSubmitBody(entries, inputSchemaOf);
}
