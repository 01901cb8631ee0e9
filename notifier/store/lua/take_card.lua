local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
if #first == 0 then return {0, -1} end
local due = tonumber(first[2])
local now = tonumber(ARGV[1])
if due > now then return {0, due - now} end
local lease = now + tonumber(ARGV[2])
redis.call('ZADD', KEYS[1], 'XX', lease, first[1])
return {tonumber(first[1]), lease}
