import { z } from 'zod';
import type { JsonSchema } from './types.js';

/**
 * JSON Schema of what a client may send for `schema` (zod's input side). Types JSON cannot
 * describe (dates, transforms) become `{}` instead of throwing, so one exotic field never hides a plugin.
 */
export function toJsonSchema(schema: z.ZodType): JsonSchema {
  return z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
}
