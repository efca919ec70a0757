/**
 * The Lua scripts of the Redis job store. They decide nothing about a job: the engine builds every
 * record and event (as JSON, with `JSON.stringify`); a script checks the version, writes the
 * strings it is given, keeps the counts, indexes and expiry in step, and publishes — atomically,
 * so two processes changing one job can never both win.
 *
 * Keys (all under `<prefix>:<queue>:jw:`, passed in as `base`): `job:<id>` (hash: `rec` the record
 * JSON, `seq`, `status`, `plugin`, `workspaceId`, `tenantKey`, `idem`, `expiresAtMs`), `log:<id>`
 * (list of event JSON), `counts` (hash by status), `order` (counter), `index` and
 * `index:t:<tenant>` (sorted sets by order), `expiry` (sorted set by expiry time), `runat` (sorted
 * set of the `queued` jobs that have a `runAt`, by that time: what `counts` reads `delayed` from),
 * `idem:<scope>` (idempotency scope → id). Channel `events`: `e<event JSON>` per event, `r<record JSON>` per removal.
 */

/** Shared: delete a job and everything that points at it; publish the removal. */
const REMOVE_JOB = `
local function remove_job(base, id)
  local jobKey = base .. 'job:' .. id
  local h = redis.call('HMGET', jobKey, 'status', 'rec', 'tenantKey', 'idem')
  if not h[1] then return false end
  redis.call('HINCRBY', base .. 'counts', h[1], -1)
  redis.call('DEL', jobKey, base .. 'log:' .. id)
  redis.call('ZREM', base .. 'index', id)
  redis.call('ZREM', base .. 'expiry', id)
  redis.call('ZREM', base .. 'runat', id)
  if h[3] and h[3] ~= '' then redis.call('ZREM', h[3], id) end
  if h[4] and h[4] ~= '' and redis.call('GET', h[4]) == id then redis.call('DEL', h[4]) end
  redis.call('PUBLISH', base .. 'events', 'r' .. h[2])
  return h[2]
end
`;

/**
 * Create a job (record, first event) unless the idempotency key names a live job or the queue is
 * full. ARGV: base, id, record JSON, event JSON, maxQueued ('inf' or n), tenantKey (or ''), idemKey
 * (or ''), now (ms), plugin, workspaceId (or ''), runAt (ms, or ''). Returns {'created'} | {'existing', rec} | {'full'}.
 */
export const CREATE = `
local base, id = ARGV[1], ARGV[2]
if ARGV[7] ~= '' then
  local existing = redis.call('GET', ARGV[7])
  if existing then
    local h = redis.call('HMGET', base .. 'job:' .. existing, 'rec', 'expiresAtMs')
    if h[1] and (not h[2] or tonumber(h[2]) > tonumber(ARGV[8])) then return {'existing', h[1]} end
  end
end
if ARGV[5] ~= 'inf' and tonumber(redis.call('HGET', base .. 'counts', 'queued') or '0') >= tonumber(ARGV[5]) then
  return {'full'}
end
local order = redis.call('INCR', base .. 'order')
redis.call('HSET', base .. 'job:' .. id, 'rec', ARGV[3], 'seq', '1', 'status', 'queued', 'order', order,
  'plugin', ARGV[9], 'workspaceId', ARGV[10], 'tenantKey', ARGV[6], 'idem', ARGV[7])
redis.call('ZADD', base .. 'index', order, id)
if ARGV[11] ~= '' then redis.call('ZADD', base .. 'runat', ARGV[11], id) end
if ARGV[6] ~= '' then redis.call('ZADD', ARGV[6], order, id) end
if ARGV[7] ~= '' then redis.call('SET', ARGV[7], id) end
redis.call('HINCRBY', base .. 'counts', 'queued', 1)
redis.call('RPUSH', base .. 'log:' .. id, ARGV[4])
redis.call('PUBLISH', base .. 'events', 'e' .. ARGV[4])
return {'created'}
`;

/**
 * Compare-and-set: when the job's seq is `expectSeq`, store the new record and its event (appended,
 * or replacing the log's last entry) and publish it. ARGV: base, id, expectSeq, record JSON, event
 * JSON, replacesLast ('1' | '0'), status, expiresAtMs (or ''), runAt (ms, or ''). A `queued` record with a
 * `runAt` goes into (or stays in) `runat` at that time; any other leaves it. Returns {'ok'} | {'conflict', rec} | {'missing'}.
 */
export const COMMIT = `
local base, id = ARGV[1], ARGV[2]
local jobKey = base .. 'job:' .. id
local h = redis.call('HMGET', jobKey, 'seq', 'status', 'rec')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[3] then return {'conflict', h[3]} end
local to = ARGV[7]
redis.call('HSET', jobKey, 'rec', ARGV[4], 'seq', tostring(tonumber(ARGV[3]) + 1), 'status', to)
if h[2] ~= to then
  redis.call('HINCRBY', base .. 'counts', h[2], -1)
  redis.call('HINCRBY', base .. 'counts', to, 1)
end
if to == 'queued' and ARGV[9] ~= '' then
  redis.call('ZADD', base .. 'runat', ARGV[9], id)
else
  redis.call('ZREM', base .. 'runat', id)
end
if ARGV[8] ~= '' then
  redis.call('HSET', jobKey, 'expiresAtMs', ARGV[8])
  redis.call('ZADD', base .. 'expiry', ARGV[8], id)
end
local logKey = base .. 'log:' .. id
if ARGV[6] == '1' then redis.call('LSET', logKey, -1, ARGV[5]) else redis.call('RPUSH', logKey, ARGV[5]) end
redis.call('PUBLISH', base .. 'events', 'e' .. ARGV[5])
return {'ok'}
`;

/** Delete one job. ARGV: base, id. Returns its last record JSON, or false. */
export const REMOVE = `${REMOVE_JOB}
return remove_job(ARGV[1], ARGV[2])
`;

/** Delete up to `limit` jobs whose expiry has passed. ARGV: base, now, limit. Returns their ids. */
export const EXPIRE = `${REMOVE_JOB}
local base = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', base .. 'expiry', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do remove_job(base, id) end
return ids
`;

/**
 * One page of records, newest first. ARGV: base, index key, max order (exclusive, or '+inf'),
 * limit, now, statuses CSV (or ''), plugin (or ''), workspaceId (or ''), scan cap.
 * Returns {recs, nextOrder or '', 'more' | 'end'}: a page may be short when the scan cap is hit.
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
    local h = redis.call('HMGET', base .. 'job:' .. id, 'status', 'plugin', 'workspaceId', 'expiresAtMs', 'rec')
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
