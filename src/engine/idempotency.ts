/**
 * The scope an idempotency key holds in: the pair (tenant, key), encoded so that no two pairs
 * share an encoding whatever characters the ids hold (a NUL, a quote…).
 */
export function idempotencyScope(tenantId: string | undefined, key: string): string {
  return JSON.stringify([tenantId ?? null, key]);
}
