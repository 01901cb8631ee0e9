local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untl = now + tonumber(ARGV[1])
local cur = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0') or 0
if untl > cur then redis.call('HSET', KEYS[1], 'pause', untl) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < untl - now + 1000 then redis.call('PEXPIRE', KEYS[1], untl - now + 1000) end
return 1
