--[[
  Create a job: its record and first event, unless the idempotency key names a live job or the
  queue is full. Every key below is under `<prefix>:{<queue>}:jw:`, so all of them share one slot.

  KEYS[1]  job:<id>            hash of the new job
  KEYS[2]  log:<id>            its status events
  KEYS[3]  counts              jobs by status
  KEYS[4]  order               counter
  KEYS[5]  index               every job, by order
  KEYS[6]  runat               queued jobs with a runAt, by that time
  KEYS[7]  index:t:<tenant>    the tenant's jobs, by order (KEYS[1] again when ARGV[5] is '0')
  KEYS[8]  idem:<scope>        idempotency scope -> id (KEYS[1] again when ARGV[6] is '0')
  KEYS[9]  job:<other id>      the job KEYS[8] named when the caller last read it (KEYS[1] again when none)

  ARGV[1]  id
  ARGV[2]  record JSON
  ARGV[3]  event JSON
  ARGV[4]  maxQueued ('inf' or n)
  ARGV[5]  '1' when the job has a tenant (KEYS[7] is its index), else '0'
  ARGV[6]  '1' when the job has an idempotency key (KEYS[8]), else '0'
  ARGV[7]  the id KEYS[9] belongs to, or ''
  ARGV[8]  now (ms)
  ARGV[9]  plugin
  ARGV[10] workspaceId, or ''
  ARGV[11] runAt (ms), or ''
  ARGV[12] channel to publish the event on
  ARGV[13] 'PUBLISH', or 'SPUBLISH' on a Redis Cluster (sharded pub/sub: the node holding the
           queue's slot delivers the message itself)

  Returns {'created'} | {'existing', rec, seq, ev} | {'full'} | {'named', other id}: the
  idempotency key names a job other than ARGV[7]; call again with that job as KEYS[9].
]]
local id = ARGV[1]
local tenantKey = ARGV[5] == '1' and KEYS[7] or ''
local idemKey = ARGV[6] == '1' and KEYS[8] or ''
if idemKey ~= '' then
  local existing = redis.call('GET', idemKey)
  if existing then
    if existing ~= ARGV[7] then return {'named', existing} end
    local h = redis.call('HMGET', KEYS[9], 'rec', 'expiresAtMs', 'seq', 'ev')
    if h[1] and (not h[2] or tonumber(h[2]) > tonumber(ARGV[8])) then return {'existing', h[1], h[3], h[4] or ''} end
  end
end
if ARGV[4] ~= 'inf' and tonumber(redis.call('HGET', KEYS[3], 'queued') or '0') >= tonumber(ARGV[4]) then
  return {'full'}
end
local order = redis.call('INCR', KEYS[4])
redis.call('HSET', KEYS[1], 'rec', ARGV[2], 'seq', '1', 'status', 'queued', 'order', order,
  'plugin', ARGV[9], 'workspaceId', ARGV[10], 'tenantKey', tenantKey, 'idem', idemKey)
redis.call('ZADD', KEYS[5], order, id)
if ARGV[11] ~= '' then redis.call('ZADD', KEYS[6], ARGV[11], id) end
if tenantKey ~= '' then redis.call('ZADD', tenantKey, order, id) end
if idemKey ~= '' then redis.call('SET', idemKey, id) end
redis.call('HINCRBY', KEYS[3], 'queued', 1)
redis.call('RPUSH', KEYS[2], ARGV[3])
redis.call(ARGV[13], ARGV[12], 'e' .. ARGV[3])
return {'created'}
