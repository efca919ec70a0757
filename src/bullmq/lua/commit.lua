--[[
  Compare-and-set: when the job's seq is ARGV[2], store the new record and its event (appended, or
  replacing the log's last entry) and publish it. A `queued` record with a runAt goes into (or
  stays in) `runat` at that time; any other leaves it.

  KEYS[1]  job:<id>     the job's hash
  KEYS[2]  log:<id>     its status events
  KEYS[3]  counts       jobs by status
  KEYS[4]  runat        queued jobs with a runAt, by that time
  KEYS[5]  expiry       jobs with an expiry, by that time

  ARGV[1]  id
  ARGV[2]  expected seq
  ARGV[3]  record JSON
  ARGV[4]  event JSON
  ARGV[5]  '1' when the event replaces the log's last entry, else '0'
  ARGV[6]  status
  ARGV[7]  expiresAtMs, or ''
  ARGV[8]  runAt (ms), or ''
  ARGV[9]  channel to publish the event on
  ARGV[10] 'PUBLISH', or 'SPUBLISH' on a Redis Cluster

  Returns {'ok'} | {'conflict', rec, seq, ev} | {'missing'}.
]]
local id = ARGV[1]
local h = redis.call('HMGET', KEYS[1], 'seq', 'status', 'rec', 'ev')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[2] then return {'conflict', h[3], h[1], h[4] or ''} end
local to = ARGV[6]
redis.call('HSET', KEYS[1], 'rec', ARGV[3], 'seq', tostring(tonumber(ARGV[2]) + 1), 'status', to, 'ev', '')
if h[2] ~= to then
  redis.call('HINCRBY', KEYS[3], h[2], -1)
  redis.call('HINCRBY', KEYS[3], to, 1)
end
if to == 'queued' and ARGV[8] ~= '' then
  redis.call('ZADD', KEYS[4], ARGV[8], id)
else
  redis.call('ZREM', KEYS[4], id)
end
if ARGV[7] ~= '' then
  redis.call('HSET', KEYS[1], 'expiresAtMs', ARGV[7])
  redis.call('ZADD', KEYS[5], ARGV[7], id)
end
if ARGV[5] == '1' then redis.call('LSET', KEYS[2], -1, ARGV[4]) else redis.call('RPUSH', KEYS[2], ARGV[4]) end
redis.call(ARGV[10], ARGV[9], 'e' .. ARGV[4])
return {'ok'}
