--[[
  Compare-and-set for output: when the job's seq is ARGV[1], keep the batch (or its newest part),
  drop the oldest batches while the bytes kept are past the limit (noting the seqs dropped), move
  the seq on and publish the whole batch once. `out:<id>` holds one entry per batch, oldest first:
  `<from> <to> <bytes> <batch JSON>`.

  KEYS[1]  job:<id>     the job's hash (`outBytes`, `gapFrom`/`gapTo`/`gapAt` kept here)
  KEYS[2]  out:<id>     its output batches

  ARGV[1]  expected seq
  ARGV[2]  new seq
  ARGV[3]  kept header (`<from> <to> <bytes> `), or '' when nothing is kept
  ARGV[4]  kept batch JSON, or '=' when it is the published one
  ARGV[5]  published batch JSON
  ARGV[6]  kept bytes
  ARGV[7]  limit bytes
  ARGV[8]  first seq of the batch's own chunks dropped at once, or '' (every older batch then goes too)
  ARGV[9]  last seq of those, or ''
  ARGV[10] time (ms)
  ARGV[11] channel to publish the batch on
  ARGV[12] 'PUBLISH', or 'SPUBLISH' on a Redis Cluster

  Returns {'ok'} | {'conflict', rec, seq, ev} | {'missing'}.
]]
local h = redis.call('HMGET', KEYS[1], 'seq', 'rec', 'ev', 'outBytes', 'gapFrom')
if not h[1] then return {'missing'} end
if h[1] ~= ARGV[1] then return {'conflict', h[2], h[1], h[3] or ''} end
local bytes = tonumber(h[4] or '0')
local gapFrom, gapTo = h[5], nil
local function dropped(entry)
  local from, to, size = string.match(entry, '^(%d+) (%d+) (%d+) ')
  bytes = bytes - tonumber(size)
  if not gapFrom then gapFrom = from end
  gapTo = to
end
if ARGV[8] ~= '' then
  for _, entry in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do dropped(entry) end
  redis.call('DEL', KEYS[2])
  bytes = 0
  if not gapFrom then gapFrom = ARGV[8] end
  gapTo = ARGV[9]
end
if ARGV[3] ~= '' then
  redis.call('RPUSH', KEYS[2], ARGV[3] .. (ARGV[4] == '=' and ARGV[5] or ARGV[4]))
  bytes = bytes + tonumber(ARGV[6])
end
local limit = tonumber(ARGV[7])
while bytes > limit do
  local entry = redis.call('LPOP', KEYS[2])
  if not entry then
    bytes = 0
    break
  end
  dropped(entry)
end
if gapTo then
  redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'ev', 'output', 'outBytes', tostring(bytes), 'gapFrom', gapFrom, 'gapTo', gapTo, 'gapAt', ARGV[10])
else
  redis.call('HSET', KEYS[1], 'seq', ARGV[2], 'ev', 'output', 'outBytes', tostring(bytes))
end
redis.call(ARGV[12], ARGV[11], 'o' .. ARGV[5])
return {'ok'}
