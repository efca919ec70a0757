import { JobwireError } from '../errors.js';
import type { ResultQuery } from '../storage/types.js';
import type { ListQuery } from '../tracker/types.js';

type SingleKey = 'tenantId' | 'workspaceId' | 'plugin' | 'cursor';

function checkKeys(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of params.keys()) if (!allowed.includes(key)) throw new JobwireError('INVALID_REQUEST', `Unknown query parameter \`${key}\``);
}

function copySingles<Q extends Partial<Record<SingleKey, string>>>(params: URLSearchParams, query: Q, keys: readonly (SingleKey & keyof Q)[]): void {
  for (const key of keys) {
    const values = params.getAll(key);
    if (values.length > 1) throw new JobwireError('INVALID_REQUEST', `\`${key}\` given more than once`);
    if (values[0] !== undefined) (query as Partial<Record<SingleKey, string>>)[key] = values[0];
  }
}

function parseLimit(params: URLSearchParams): number | undefined {
  const values = params.getAll('limit');
  if (values.length > 1) throw new JobwireError('INVALID_REQUEST', '`limit` given more than once');
  const limit = values[0];
  if (limit === undefined) return undefined;
  if (!/^\d{1,7}$/.test(limit)) throw new JobwireError('INVALID_REQUEST', '`limit` must be a positive integer');
  return Number(limit);
}

/**
 * The query of `GET /jobs`: `tenantId`, `workspaceId`, `plugin`, `cursor` once each, `status`
 * repeated or comma-separated, `limit`.
 * @throws JobwireError `INVALID_REQUEST` for an unknown, repeated or malformed parameter.
 */
export function parseListQuery(params: URLSearchParams): ListQuery {
  checkKeys(params, ['tenantId', 'workspaceId', 'status', 'plugin', 'limit', 'cursor']);
  const query: ListQuery = {};
  copySingles(params, query, ['tenantId', 'workspaceId', 'plugin', 'cursor']);
  const statuses = params.getAll('status').flatMap((value) => value.split(',')).filter(Boolean);
  if (statuses.length > 0) query.status = statuses as ListQuery['status'] & string[];
  const limit = parseLimit(params);
  if (limit !== undefined) query.limit = limit;
  return query;
}

/**
 * The query of `GET /results`: `tenantId`, `plugin`, `limit`, `cursor`, once each.
 * @throws JobwireError `INVALID_REQUEST` for an unknown, repeated or malformed parameter.
 */
export function parseResultQuery(params: URLSearchParams): ResultQuery {
  checkKeys(params, ['tenantId', 'plugin', 'limit', 'cursor']);
  const query: ResultQuery = {};
  copySingles(params, query, ['tenantId', 'plugin', 'cursor']);
  const limit = parseLimit(params);
  if (limit !== undefined) query.limit = limit;
  return query;
}
