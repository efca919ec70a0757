/**
 * The Lua scripts of the Redis job store. They decide nothing about a job: the engine builds every
 * record and event (as JSON, with `JSON.stringify`); a script checks the version, writes the
 * strings it is given, keeps the counts, indexes and expiry in step, and publishes — atomically,
 * so two processes changing one job can never both win.
 *
 * Keys (all under `<prefix>:<queue>:jw:`, passed in as `base`): `job:<id>` (hash: `rec` the record
 * JSON, `seq`, `status`, `plugin`, `workspaceId`, `tenantKey`, `idem`, `expiresAtMs`; and for
 * output: `ev` = `output` while the last event is an output chunk (`rec` then has an older seq:
 * `seq` is the truth), `outBytes` the bytes of output kept, `gapFrom`/`gapTo`/`gapAt` the seqs of
 * output dropped and when), `log:<id>` (list of status event JSON), `out:<id>` (list of output
 * batches, oldest first, each `<from> <to> <bytes> <batch JSON>`), `counts` (hash by status),
 * `order` (counter), `index` and `index:t:<tenant>` (sorted sets by order), `expiry` (sorted set by
 * expiry time), `runat` (sorted set of the `queued` jobs that have a `runAt`, by that time: what
 * `counts` reads `delayed` from), `idem:<scope>` (idempotency scope → id). Channel `events`:
 * `e<event JSON>` per event, `o<batch JSON>` per output batch, `r<record JSON>` per removal.
 *
 * A script that returns a record returns the job's `seq` and `ev` beside it, so the caller can
 * say what output moved on (see `parseCurrentRecord`).
 */

/** Shared: delete a job and everything that points at it; publish the removal. Returns {rec, seq, ev}, or false. */
const REMOVE_JOB = `
local function remove_job(base, id)
  local jobKey = base .. 'job:' .. id
  local h = redis.call('HMGET', jobKey, 'status', 'rec', 'tenantKey', 'idem', 'seq', 'ev')
  if not h[1] then return false end
  redis.call('HINCRBY', base .. 'counts', h[1], -1)
  redis.call('DEL', jobKey, base .. 'log:' .. id, base .. 'out:' .. id)
  redis.call('ZREM', base .. 'index', id)
  redis.call('ZREM', base .. 'expiry', id)
  redis.call('ZREM', base .. 'runat', id)
  if h[3] and h[3] ~= '' then redis.call('ZREM', h[3], id) end
  if h[4] and h[4] ~= '' and redis.call('GET', h[4]) == id then redis.call('DEL', h[4]) end
  redis.call('PUBLISH', base .. 'events', 'r' .. h[2])
  return {h[2], h[5], h[6] or ''}
end
`;

/**
 * Create a job (record, first event) unless the idempotency key names a live job or the queue is
 * full. ARGV: base, id, record JSON, event JSON, maxQueued ('inf' or n), tenantKey (or ''), idemKey
 * (or ''), now (ms), plugin, workspaceId (or ''), runAt (ms, or ''). Returns {'created'} | {'existing', rec, seq, ev} | {'full'}.
 */
export const CREATE = `
local base, id = ARGV[1], ARGV[2]
if ARGV[7] ~= '' then
  local existing = redis.call('GET', ARGV[7])
  if existing then
    local h = redis.call('HMGET', base .. 'job:' .. existing, 'rec', 'expiresAtMs', 'seq', 'ev')
    if h[1] and (not h[2] or tonumber(h[2]) > tonumber(ARGV[8])) then return {'existing', h[1], h[3], h[4] or ''} end
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
 * `runAt` goes into (or stays in) `runat` at that time; any other leaves it. Returns {'ok'} | {'conflict', rec, seq, ev} | {'missing'}.
 */
export const COMMIT = `
local base, id = ARGV[1], ARGV[2]
local jobKey = base .. 'job:' .. id
local h = redis.call('HMGET', jobKey, 'seq', 'status', 'rec', 'ev')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[3] then return {'conflict', h[3], h[1], h[4] or ''} end
local to = ARGV[7]
redis.call('HSET', jobKey, 'rec', ARGV[4], 'seq', tostring(tonumber(ARGV[3]) + 1), 'status', to, 'ev', '')
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

/**
 * Compare-and-set for output: when the job's seq is `afterSeq`, keep the batch (or its newest part),
 * drop the oldest batches while the bytes kept are past the limit (noting the seqs dropped), move the
 * seq on and publish the whole batch once. ARGV: base, id, afterSeq, new seq, kept header
 * (`<from> <to> <bytes> `, or '' when nothing is kept), kept batch JSON (or '=' when it is the
 * published one), published batch JSON, kept bytes, limit bytes, first and last seq of the batch's
 * own chunks dropped at once (or '', ''; every older batch then goes too), time (ms).
 * Returns {'ok'} | {'conflict', rec, seq, ev} | {'missing'}.
 */
export const APPEND = `
local base, id = ARGV[1], ARGV[2]
local jobKey = base .. 'job:' .. id
local h = redis.call('HMGET', jobKey, 'seq', 'rec', 'ev', 'outBytes', 'gapFrom')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[3] then return {'conflict', h[2], h[1], h[3] or ''} end
local outKey = base .. 'out:' .. id
local bytes = tonumber(h[4] or '0')
local gapFrom, gapTo = h[5], nil
local function dropped(entry)
  local from, to, size = string.match(entry, '^(%d+) (%d+) (%d+) ')
  bytes = bytes - tonumber(size)
  if not gapFrom then gapFrom = from end
  gapTo = to
end
if ARGV[10] ~= '' then
  for _, entry in ipairs(redis.call('LRANGE', outKey, 0, -1)) do dropped(entry) end
  redis.call('DEL', outKey)
  bytes = 0
  if not gapFrom then gapFrom = ARGV[10] end
  gapTo = ARGV[11]
end
if ARGV[5] ~= '' then
  redis.call('RPUSH', outKey, ARGV[5] .. (ARGV[6] == '=' and ARGV[7] or ARGV[6]))
  bytes = bytes + tonumber(ARGV[8])
end
local limit = tonumber(ARGV[9])
while bytes > limit do
  local entry = redis.call('LPOP', outKey)
  if not entry then
    bytes = 0
    break
  end
  dropped(entry)
end
if gapTo then
  redis.call('HSET', jobKey, 'seq', ARGV[4], 'ev', 'output', 'outBytes', tostring(bytes), 'gapFrom', gapFrom, 'gapTo', gapTo, 'gapAt', ARGV[12])
else
  redis.call('HSET', jobKey, 'seq', ARGV[4], 'ev', 'output', 'outBytes', tostring(bytes))
end
redis.call('PUBLISH', base .. 'events', 'o' .. ARGV[7])
return {'ok'}
`;

/** Delete one job. ARGV: base, id. Returns {rec, seq, ev} as it was, or false. */
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
 * Returns {recs, nextOrder or '', 'more' | 'end', seqs}: a page may be short when the scan cap is
 * hit; `seqs[i]` is the job's seq when its last event is output (its record has an older one), else ''.
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
local out, seqs, lastOrder, scanned = {}, {}, '', 0
while true do
  local batch = redis.call('ZREVRANGEBYSCORE', ARGV[2], max, '-inf', 'WITHSCORES', 'LIMIT', 0, 100)
  if #batch == 0 then return {out, '', 'end', seqs} end
  for i = 1, #batch, 2 do
    local id, order = batch[i], batch[i + 1]
    local h = redis.call('HMGET', base .. 'job:' .. id, 'status', 'plugin', 'workspaceId', 'expiresAtMs', 'rec', 'ev', 'seq')
    if h[1] and (not h[4] or tonumber(h[4]) > now)
      and (wanted == nil or wanted[h[1]])
      and (ARGV[7] == '' or h[2] == ARGV[7])
      and (ARGV[8] == '' or h[3] == ARGV[8]) then
      if #out == limit then return {out, lastOrder, 'more', seqs} end
      out[#out + 1] = h[5]
      seqs[#seqs + 1] = h[6] == 'output' and h[7] or ''
      lastOrder = order
    end
    scanned = scanned + 1
    max = '(' .. order
    if scanned >= cap then return {out, order, 'more', seqs} end
  end
end
`;
