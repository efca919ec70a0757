import { JobwireError } from '../errors.js';
import type { ResultQuery } from '../storage/types.js';
import type { ListQuery } from '../tracker/types.js';

type SingleKey = 'tenantId' | 'workspaceId' | 'plugin' | 'cursor';

function checkKeys(params: URLSearchParams, allowed: readonly string[]): void {
  for (const key of params.keys()) if (!allowed.includes(key)) throw new JobwireError('INVALID_REQUEST', `Unknown query parameter \`${key}\``);
}

/** The one value of `key`, if given. @throws JobwireError `INVALID_REQUEST` when it is given more than once. */
function single(params: URLSearchParams, key: string): string | undefined {
  const values = params.getAll(key);
  if (values.length > 1) throw new JobwireError('INVALID_REQUEST', `\`${key}\` given more than once`);
  return values[0];
}

function copySingles<Q extends Partial<Record<SingleKey, string>>>(params: URLSearchParams, query: Q, keys: readonly (SingleKey & keyof Q)[]): void {
  for (const key of keys) {
    const value = single(params, key);
    if (value !== undefined) (query as Partial<Record<SingleKey, string>>)[key] = value;
  }
}

/** `status`, repeated or comma-separated, into `query.status` (checked by the tracker). */
function copyStatuses(params: URLSearchParams, query: ListQuery): void {
  const statuses = params.getAll('status').flatMap((value) => value.split(',')).filter(Boolean);
  if (statuses.length > 0) query.status = statuses as ListQuery['status'] & string[];
}

function parseLimit(params: URLSearchParams): number | undefined {
  const limit = single(params, 'limit');
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
  copyStatuses(params, query);
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

/**
 * The query of the several-jobs stream `GET /jobs/events?id=…&id=…`: the ids (repeats dropped
 * later) and `lastEventId` (once; the `Last-Event-ID` header wins over it).
 * @throws JobwireError `INVALID_REQUEST` for any other parameter, or a repeated `lastEventId`.
 */
export function parseJobsEventsIds(params: URLSearchParams): { ids: string[]; lastEventId: string | undefined } {
  checkKeys(params, ['id', 'lastEventId']);
  return { ids: params.getAll('id'), lastEventId: single(params, 'lastEventId') };
}

/**
 * The query of the tenant-wide stream `GET /jobs/events`: `GET /jobs`'s filters (`tenantId`,
 * `workspaceId`, `plugin` once each, `status` repeated or comma-separated), no paging; a
 * `lastEventId` is accepted and ignored (the stream has no replay).
 * @throws JobwireError `INVALID_REQUEST` for `limit`, `cursor`, an unknown or repeated parameter.
 */
export function parseJobsEventsQuery(params: URLSearchParams): ListQuery {
  for (const key of ['limit', 'cursor']) {
    if (params.has(key)) throw new JobwireError('INVALID_REQUEST', `\`${key}\` does not apply to an event stream: it follows every job that matches`);
  }
  checkKeys(params, ['tenantId', 'workspaceId', 'status', 'plugin', 'lastEventId']);
  const query: ListQuery = {};
  copySingles(params, query, ['tenantId', 'workspaceId', 'plugin']);
  single(params, 'lastEventId');
  copyStatuses(params, query);
  return query;
}
