-- ARGV[9] onwards: the terminal statuses.
local terminal = {}
for i = 9, #ARGV do terminal[ARGV[i]] = true end
local st = redis.call('HGET', KEYS[1], 'status')
if not st or terminal[st] then return {0, 0} end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return {0, 0} end
local n = redis.call('HINCRBY', KEYS[1], 'read_failures', 1)
redis.call('HSET', KEYS[1], 'read_failure', ARGV[2])
local now = tonumber(ARGV[4])
if n < tonumber(ARGV[3]) then
  local base = tonumber(ARGV[5])
  local wait = math.min(base * math.pow(2, n - 1), math.max(tonumber(ARGV[6]), base))
  redis.call('ZADD', KEYS[2], 'XX', now + wait - base, ARGV[1])
  return {n, 0}
end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'finished', now, 'lost', 1)
redis.call('EXPIRE', KEYS[1], ARGV[7])
redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', ARGV[8])
return {n, 1}
