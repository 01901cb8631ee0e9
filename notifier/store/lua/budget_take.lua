local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local interval = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local pause = tonumber(redis.call('HGET', KEYS[1], 'pause') or '0') or 0
if pause > now then return pause - now end
local tat = tonumber(redis.call('HGET', KEYS[1], 'tat') or '0') or 0
if tat < now then tat = now end
local nxt = tat + interval
local wait = nxt - burst * interval - now
if wait > 0 then return wait end
if ARGV[3] == '1' then return 0 end
redis.call('HSET', KEYS[1], 'tat', nxt)
redis.call('PEXPIRE', KEYS[1], nxt - now + 1000)
return 0
