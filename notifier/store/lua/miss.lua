-- ARGV[6] onwards: the terminal statuses.
local terminal = {}
for i = 6, #ARGV do terminal[ARGV[i]] = true end
local st = redis.call('HGET', KEYS[1], 'status')
if not st or terminal[st] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
local n = redis.call('HINCRBY', KEYS[1], 'misses', 1)
if n < tonumber(ARGV[2]) then return 0 end
redis.call('ZREM', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'finished', ARGV[3], 'lost', 1)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('XADD', KEYS[3], '*', 'kind', 'reply', 'job', ARGV[1], 'status', ARGV[5])
return 1
