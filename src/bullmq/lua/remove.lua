--[[
  Delete jobs and everything that points at them; publish each removal. The caller read each
  job's tenant index and idempotency key first (they never change once the job exists) and
  declares them; a job whose hash names another key is left alone.

  KEYS[1]  counts       jobs by status
  KEYS[2]  index        every job, by order
  KEYS[3]  expiry       jobs with an expiry, by that time
  KEYS[4]  runat        queued jobs with a runAt, by that time
  then five keys per job, the n-th job's at KEYS[5n] .. KEYS[5n+4]:
           job:<id>, log:<id>, out:<id>,
           index:t:<tenant> (the job key again when it has no tenant),
           idem:<scope> (the job key again when it has no idempotency key)

  ARGV[1]  channel to publish removals on
  ARGV[2]  'PUBLISH', or 'SPUBLISH' on a Redis Cluster
  ARGV[3]  '' to remove the jobs whatever they are, or a time (ms): remove only jobs whose expiry
           is at or before it
  ARGV[3+n] the n-th job's id

  Returns one entry per job: {rec, seq, ev} as it was, or false when it was not removed.
]]
local cutoff = ARGV[3] ~= '' and tonumber(ARGV[3]) or nil

local function remove_job(id, jobKey, logKey, outKey, tenantKey, idemKey)
  if cutoff then
    local at = redis.call('ZSCORE', KEYS[3], id)
    if not at or tonumber(at) > cutoff then return false end
  end
  local h = redis.call('HMGET', jobKey, 'status', 'rec', 'tenantKey', 'idem', 'seq', 'ev')
  if not h[1] then
    -- Gone already: drop what may still point at it, so that a sweep never meets it again.
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZREM', KEYS[4], id)
    return false
  end
  local tenant, idem = h[3] or '', h[4] or ''
  if (tenant ~= '' and tenant ~= tenantKey) or (idem ~= '' and idem ~= idemKey) then return false end
  redis.call('HINCRBY', KEYS[1], h[1], -1)
  redis.call('DEL', jobKey, logKey, outKey)
  redis.call('ZREM', KEYS[2], id)
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[4], id)
  if tenant ~= '' then redis.call('ZREM', tenant, id) end
  if idem ~= '' and redis.call('GET', idem) == id then redis.call('DEL', idem) end
  redis.call(ARGV[2], ARGV[1], 'r' .. h[2])
  return {h[2], h[5], h[6] or ''}
end

local out = {}
for n = 1, #ARGV - 3 do
  local k = 5 * n
  out[n] = remove_job(ARGV[3 + n], KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4])
end
return out
