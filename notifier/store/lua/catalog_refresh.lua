-- KEYS[1]: the refresh marker. ARGV: now (ms), every (ms).
-- The marker holds the time (ms, on the store's clock) before which no
-- other refresh may start; Redis also expires it then, so it never lingers.
local held = tonumber(redis.call('GET', KEYS[1]))
local now = tonumber(ARGV[1])
if held and held > now then return 0 end
redis.call('SET', KEYS[1], now + tonumber(ARGV[2]), 'PX', ARGV[2])
return 1
