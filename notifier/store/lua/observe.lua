-- ARGV[14] onwards: the terminal statuses.
local terminal = {}
for i = 14, #ARGV do terminal[ARGV[i]] = true end
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 0 end
if terminal[cur] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
redis.call('ZADD', KEYS[2], 'XX', ARGV[8], ARGV[1])
redis.call('HDEL', KEYS[1], 'misses', 'read_failures', 'read_failure')
local change = 0
if cur ~= ARGV[2] then
  change = 2
else
  local p = tonumber(redis.call('HGET', KEYS[1], 'progress') or '0') or 0
  if math.floor(p * 10) ~= math.floor(tonumber(ARGV[3]) * 10) then change = 1 end
end
if change == 0 then return 0 end
redis.call('HSET', KEYS[1], 'status', ARGV[2], 'progress', ARGV[3], 'errors', ARGV[4],
  'runtime', ARGV[6], 'outputs', ARGV[7], 'updated', ARGV[8])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
if change == 2 then redis.call('HSET', KEYS[1], 'status_since', ARGV[8]) end
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'html_url', ARGV[5]) end
local due = tonumber(ARGV[8])
if change == 1 then
  local last = tonumber(redis.call('HGET', KEYS[1], 'card_at') or '0') or 0
  if last + tonumber(ARGV[11]) > due then due = last + tonumber(ARGV[11]) end
end
redis.call('ZADD', KEYS[4], 'LT', due, ARGV[1])
if ARGV[9] == '1' then
  if ARGV[2] == ARGV[12] then
    local by = redis.call('HGET', KEYS[1], 'stop_requested_by')
    if by then redis.call('HSET', KEYS[1], 'stopped_by', by) end
  end
  redis.call('HSET', KEYS[1], 'finished', ARGV[8])
  redis.call('ZREM', KEYS[2], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[10])
  redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', ARGV[2])
  if tonumber(ARGV[13]) > 0 then
    redis.call('LPUSH', KEYS[5], '{"job":' .. ARGV[1] .. ',"status":"' .. ARGV[2] .. '","finished":' .. ARGV[8] ..
      ',"runtime":' .. ARGV[6] .. '}')
    redis.call('LTRIM', KEYS[5], 0, tonumber(ARGV[13]) - 1)
    redis.call('EXPIRE', KEYS[5], ARGV[10])
  end
  return 3
end
return change
