-- ARGV[14] onwards: the terminal statuses.
local terminal = {}
for i = 14, #ARGV do terminal[ARGV[i]] = true end
local cur = redis.call('HGET', KEYS[1], 'spec')
if cur then
  local ok, sp = pcall(cjson.decode, cur)
  if not ok or type(sp) ~= 'table' then return -1 end
  if sp['channel'] ~= ARGV[2] or sp['card_ts'] ~= ARGV[3] then return 0 end
else
  redis.call('HSET', KEYS[1], 'spec', ARGV[1])
end
if redis.call('ZCARD', KEYS[2]) == 0 then
  local mark = redis.call('GET', KEYS[3])
  if not mark or mark < ARGV[9] then redis.call('SET', KEYS[3], ARGV[9]) end
end
redis.call('HSETNX', KEYS[1], 'status', ARGV[4])
redis.call('HSETNX', KEYS[1], 'progress', ARGV[5])
redis.call('HSETNX', KEYS[1], 'html_url', ARGV[6])
redis.call('HSETNX', KEYS[1], 'updated', ARGV[7])
redis.call('HSETNX', KEYS[1], 'status_since', ARGV[7])
redis.call('HINCRBY', KEYS[1], 'rev', 1)
local st = redis.call('HGET', KEYS[1], 'status')
if not terminal[st] then
  -- a retried Track after the job ended must not follow it again
  redis.call('ZADD', KEYS[2], ARGV[7], ARGV[10])
end
redis.call('ZADD', KEYS[4], ARGV[8], ARGV[10])
redis.call('ZREMRANGEBYRANK', KEYS[4], 0, -tonumber(ARGV[11]) - 1)
redis.call('EXPIRE', KEYS[4], ARGV[12])
if KEYS[7] then
  -- the requester's own jobs, bounded like the channel's
  redis.call('ZADD', KEYS[7], ARGV[8], ARGV[10])
  redis.call('ZREMRANGEBYRANK', KEYS[7], 0, -tonumber(ARGV[11]) - 1)
  redis.call('EXPIRE', KEYS[7], ARGV[12])
end
if ARGV[13] ~= '' then
  redis.call('DEL', KEYS[6])
  redis.call('ZREM', KEYS[5], ARGV[13])
end
return 1
