-- ARGV[4] onwards: the terminal statuses.
local terminal = {}
for i = 4, #ARGV do terminal[ARGV[i]] = true end
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return 0 end
if terminal[st] then return 2 end
redis.call('HSET', KEYS[1], 'stop_requested_by', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
redis.call('ZADD', KEYS[2], 'LT', ARGV[3], ARGV[1])
return 1
