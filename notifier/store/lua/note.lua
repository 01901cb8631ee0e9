-- ARGV[5] onwards: the terminal statuses.
local terminal = {}
for i = 5, #ARGV do terminal[ARGV[i]] = true end
local st = redis.call('HGET', KEYS[1], 'status')
if not st or terminal[st] or st ~= ARGV[3] then return 0 end
if redis.call('HEXISTS', KEYS[1], 'lost') == 1 then return 0 end
if redis.call('HSETNX', KEYS[1], 'noted:' .. ARGV[2], ARGV[4]) == 0 then return 0 end
redis.call('XADD', KEYS[2], '*', 'kind', 'reply', 'job', ARGV[1], 'status', ARGV[2])
return 1
