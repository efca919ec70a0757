/**
 * The Lua scripts that keep a job's record, counts, indexes and event log consistent in Redis.
 * Each runs atomically, so a cancel in an API process and a completion in a worker can never both
 * win: the transition table is checked inside the script that changes the status.
 *
 * Keys (all under `<prefix>:<queue>:jw:`, passed in as `base`): `job:<id>` (hash), `log:<id>`
 * (list of event JSON, consecutive progress coalesced), `counts` (hash by status), `order`
 * (counter), `index` and `index:t:<tenant>` (sorted sets by order), `expiry` (sorted set by
 * expiry time), `idem:<…>` (idempotency key → id), and the pub/sub channel `events`.
 */

/** Shared: build the snapshot from the hash, append the event to the log, publish it. */
const APPEND_EVENT = `
local function append_event(base, id, eventType, at)
  local jobKey = base .. 'job:' .. id
  local h = redis.call('HMGET', jobKey, 'base', 'status', 'progress', 'message', 'result', 'error', 'startedAt', 'finishedAt', 'expiresAt', 'lastType')
  local snap = h[1] .. ',"status":"' .. h[2] .. '","progress":' .. h[3]
  if h[4] then snap = snap .. ',"message":' .. h[4] end
  if h[5] then snap = snap .. ',"result":' .. h[5] end
  if h[6] then snap = snap .. ',"error":' .. h[6] end
  if h[7] then snap = snap .. ',"startedAt":' .. h[7] end
  if h[8] then snap = snap .. ',"finishedAt":' .. h[8] end
  if h[9] then snap = snap .. ',"expiresAt":' .. h[9] end
  snap = snap .. '}'
  local seq = redis.call('HINCRBY', jobKey, 'seq', 1)
  local event = '{"seq":' .. seq .. ',"type":"' .. eventType .. '","jobId":"' .. id .. '","at":"' .. at .. '","job":' .. snap .. '}'
  local logKey = base .. 'log:' .. id
  if eventType == 'progress' and h[10] == 'progress' then
    redis.call('LSET', logKey, -1, event)
  else
    redis.call('RPUSH', logKey, event)
  end
  redis.call('HSET', jobKey, 'snap', snap, 'lastType', eventType)
  redis.call('PUBLISH', base .. 'events', event)
  return snap
end
`;

/** Shared: delete a job and everything that points at it; publish the removal. */
const REMOVE_JOB = `
local function remove_job(base, id)
  local jobKey = base .. 'job:' .. id
  local h = redis.call('HMGET', jobKey, 'status', 'snap', 'tenantKey', 'idem')
  if not h[1] then return false end
  redis.call('HINCRBY', base .. 'counts', h[1], -1)
  redis.call('DEL', jobKey, base .. 'log:' .. id)
  redis.call('ZREM', base .. 'index', id)
  redis.call('ZREM', base .. 'expiry', id)
  if h[3] and h[3] ~= '' then redis.call('ZREM', h[3], id) end
  if h[4] and h[4] ~= '' and redis.call('GET', h[4]) == id then redis.call('DEL', h[4]) end
  redis.call('PUBLISH', base .. 'events', '{"removed":"' .. id .. '","job":' .. h[2] .. '}')
  return h[2]
end
`;

/**
 * Create a job (status queued, event 1) unless the idempotency key points at a live job or the
 * queue is full. ARGV: base, id, baseJson, at, maxQueued ('inf' or n), tenantKey (or ''),
 * idemKey (or ''), now (ms), plugin, workspaceId, timeoutMs (or '').
 * Returns {'created', snap} | {'existing', snap} | {'full'}.
 */
export const SUBMIT = `${APPEND_EVENT}
local base, id = ARGV[1], ARGV[2]
if ARGV[7] ~= '' then
  local existing = redis.call('GET', ARGV[7])
  if existing then
    local h = redis.call('HMGET', base .. 'job:' .. existing, 'snap', 'expiresAtMs')
    if h[1] and (not h[2] or tonumber(h[2]) > tonumber(ARGV[8])) then return {'existing', h[1]} end
  end
end
if ARGV[5] ~= 'inf' and tonumber(redis.call('HGET', base .. 'counts', 'queued') or '0') >= tonumber(ARGV[5]) then
  return {'full'}
end
local order = redis.call('INCR', base .. 'order')
redis.call('HSET', base .. 'job:' .. id, 'base', ARGV[3], 'status', 'queued', 'progress', '0', 'seq', '0', 'order', order,
  'plugin', ARGV[9], 'workspaceId', ARGV[10], 'tenantKey', ARGV[6], 'idem', ARGV[7], 'timeoutMs', ARGV[11])
redis.call('ZADD', base .. 'index', order, id)
if ARGV[6] ~= '' then redis.call('ZADD', ARGV[6], order, id) end
if ARGV[7] ~= '' then redis.call('SET', ARGV[7], id) end
redis.call('HINCRBY', base .. 'counts', 'queued', 1)
return {'created', append_event(base, id, 'queued', ARGV[4])}
`;

/**
 * Change a job: only from one of the allowed statuses. ARGV: base, id, allowedFrom (CSV), to (or ''
 * to keep the status), eventType, at, expiresAtMs (or ''), then field/value pairs ('' deletes).
 * Returns {'ok', snap} | {'refused', snap, status, expiresAtMs} | {'missing'}.
 */
export const CHANGE = `${APPEND_EVENT}
local base, id = ARGV[1], ARGV[2]
local jobKey = base .. 'job:' .. id
local status = redis.call('HGET', jobKey, 'status')
if not status then return {'missing'} end
local allowed = false
for s in string.gmatch(ARGV[3], '[^,]+') do
  if s == status then allowed = true end
end
if not allowed then
  local h = redis.call('HMGET', jobKey, 'snap', 'expiresAtMs')
  return {'refused', h[1], status, h[2] or ''}
end
for i = 8, #ARGV, 2 do
  if ARGV[i + 1] == '' then redis.call('HDEL', jobKey, ARGV[i]) else redis.call('HSET', jobKey, ARGV[i], ARGV[i + 1]) end
end
local to = ARGV[4]
if to ~= '' and to ~= status then
  redis.call('HSET', jobKey, 'status', to)
  redis.call('HINCRBY', base .. 'counts', status, -1)
  redis.call('HINCRBY', base .. 'counts', to, 1)
end
if ARGV[7] ~= '' then
  redis.call('HSET', jobKey, 'expiresAtMs', ARGV[7])
  redis.call('ZADD', base .. 'expiry', ARGV[7], id)
end
return {'ok', append_event(base, id, ARGV[5], ARGV[6])}
`;

/**
 * A worker takes a job: queued → running (event 'started'). A job still marked running was being
 * run by a worker that stopped: it goes back to queued first (event 'queued' with `requeueMessage`).
 * ARGV: base, id, at, startedAt (JSON), requeueMessage (JSON).
 * Returns {baseJson, timeoutMs} to run it, or false when it is no longer to be run.
 */
export const START = `${APPEND_EVENT}
local base, id = ARGV[1], ARGV[2]
local jobKey = base .. 'job:' .. id
local status = redis.call('HGET', jobKey, 'status')
if not status then return false end
if status == 'running' then
  redis.call('HSET', jobKey, 'status', 'queued', 'progress', '0', 'message', ARGV[5])
  redis.call('HINCRBY', base .. 'counts', 'running', -1)
  redis.call('HINCRBY', base .. 'counts', 'queued', 1)
  append_event(base, id, 'queued', ARGV[3])
  status = 'queued'
end
if status ~= 'queued' then return false end
redis.call('HSET', jobKey, 'status', 'running', 'startedAt', ARGV[4])
redis.call('HDEL', jobKey, 'message')
redis.call('HINCRBY', base .. 'counts', 'queued', -1)
redis.call('HINCRBY', base .. 'counts', 'running', 1)
append_event(base, id, 'started', ARGV[3])
local h = redis.call('HMGET', jobKey, 'base', 'timeoutMs')
return {h[1], h[2] or ''}
`;

/** Delete one job. ARGV: base, id. Returns its last snapshot, or false. */
export const REMOVE = `${REMOVE_JOB}
return remove_job(ARGV[1], ARGV[2])
`;

/** Delete up to `limit` jobs whose expiry has passed. ARGV: base, now, limit. Returns their ids. */
export const SWEEP = `${REMOVE_JOB}
local base = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', base .. 'expiry', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do remove_job(base, id) end
return ids
`;

/**
 * One page of jobs, newest first. ARGV: base, index key, max order (exclusive, or '+inf'),
 * limit, now, statuses CSV (or ''), plugin (or ''), workspaceId (or ''), scan cap.
 * Returns {snaps, nextOrder or '', 'more' | 'end'}: a page may be short when the scan cap is hit.
 */
export const LIST = `
local base = ARGV[1]
local max = ARGV[3] == '+inf' and '+inf' or ('(' .. ARGV[3])
local limit, now, cap = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[9])
local wanted = nil
if ARGV[6] ~= '' then
  wanted = {}
  for s in string.gmatch(ARGV[6], '[^,]+') do wanted[s] = true end
end
local out, lastOrder, scanned = {}, '', 0
while true do
  local batch = redis.call('ZREVRANGEBYSCORE', ARGV[2], max, '-inf', 'WITHSCORES', 'LIMIT', 0, 100)
  if #batch == 0 then return {out, '', 'end'} end
  for i = 1, #batch, 2 do
    local id, order = batch[i], batch[i + 1]
    local h = redis.call('HMGET', base .. 'job:' .. id, 'status', 'plugin', 'workspaceId', 'expiresAtMs', 'snap')
    if h[1] and (not h[4] or tonumber(h[4]) > now)
      and (wanted == nil or wanted[h[1]])
      and (ARGV[7] == '' or h[2] == ARGV[7])
      and (ARGV[8] == '' or h[3] == ARGV[8]) then
      if #out == limit then return {out, lastOrder, 'more'} end
      out[#out + 1] = h[5]
      lastOrder = order
    end
    scanned = scanned + 1
    max = '(' .. order
    if scanned >= cap then return {out, order, 'more'} end
  end
end
`;
