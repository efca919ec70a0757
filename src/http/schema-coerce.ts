import type { JsonSchema } from '../plugin-manager/types.js';

/** A form value that stands for "not given" (an empty number or boolean field). */
export const OMIT: unique symbol = Symbol('omit');

const MAX_DEPTH = 8;
const NUMBER_TEXT = /^\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?\s*$/i;

/** True for decimal number text (`12`, `-1.5`, `2e3`), not for what `Number()` also takes (`0x10`, `Infinity`, ``). */
export function isNumberText(text: string): boolean {
  return NUMBER_TEXT.test(text);
}
const TRUE_TEXT = new Set(['true', 'on', '1']);
const FALSE_TEXT = new Set(['false', 'off', '0']);

/** Boolean form text: `true`/`on`/`1` or `false`/`off`/`0` (any case, spaces around); undefined for anything else. */
export function booleanText(text: string): boolean | undefined {
  const word = text.trim().toLowerCase();
  if (TRUE_TEXT.has(word)) return true;
  if (FALSE_TEXT.has(word)) return false;
  return undefined;
}

function isSchema(value: unknown): value is JsonSchema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The schema and the members of its `anyOf` / `oneOf` / `allOf` (zod's optional, nullable, unions). */
function alternatives(schema: JsonSchema, depth = 0): JsonSchema[] {
  const out = [schema];
  if (depth >= MAX_DEPTH) return out;
  for (const key of ['anyOf', 'oneOf', 'allOf']) {
    const members = schema[key];
    if (Array.isArray(members)) for (const member of members) if (isSchema(member)) out.push(...alternatives(member, depth + 1));
  }
  return out;
}

/** Every JSON type a schema allows (empty: unknown, so no coercion). */
function typesOf(schema: JsonSchema | undefined): Set<string> {
  const types = new Set<string>();
  if (!schema) return types;
  for (const alternative of alternatives(schema)) {
    const { type } = alternative;
    if (typeof type === 'string') types.add(type);
    else if (Array.isArray(type)) for (const item of type) if (typeof item === 'string') types.add(item);
  }
  return types;
}

/** The schema of the property at `path` below `schema`, when the schema says. */
export function schemaAt(schema: JsonSchema | undefined, path: readonly string[]): JsonSchema | undefined {
  let current = schema;
  for (const key of path) {
    if (!current) return undefined;
    let next: JsonSchema | undefined;
    for (const alternative of alternatives(current)) {
      const properties = alternative.properties;
      if (isSchema(properties) && Object.hasOwn(properties, key) && isSchema(properties[key])) {
        next = properties[key];
        break;
      }
      if (isSchema(alternative.additionalProperties)) next ??= alternative.additionalProperties;
    }
    current = next;
  }
  return current;
}

/**
 * One form text as the schema wants it: a number for `number`/`integer`, a boolean for `boolean`
 * (`true`/`on`/`1`, `false`/`off`/`0`), {@link OMIT} for an empty such field (so a default applies).
 * Text that does not fit stays text, for the plugin's validation to report at its path.
 */
function coerceOne(text: string, schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.size === 0 || types.has('string')) return text;
  const numeric = types.has('number') || types.has('integer');
  const boolean = types.has('boolean');
  if (!numeric && !boolean) return text;
  if (text.trim() === '') return OMIT;
  if (numeric && isNumberText(text)) return Number(text);
  if (boolean) {
    const value = booleanText(text);
    if (value !== undefined) return value;
  }
  return text;
}

/**
 * The value of a form field (all its values, in order) as the schema wants it: a list when the
 * schema says `array` (each item coerced by `items`), else the last value, coerced.
 */
export function coerceField(values: readonly string[], schema: JsonSchema | undefined): unknown {
  const types = typesOf(schema);
  if (types.has('array') && !types.has('string')) {
    let items: JsonSchema | undefined;
    for (const alternative of alternatives(schema as JsonSchema)) if (isSchema(alternative.items)) items ??= alternative.items;
    return values.map((value) => coerceOne(value, items)).filter((value) => value !== OMIT);
  }
  return coerceOne(values[values.length - 1] ?? '', schema);
}
