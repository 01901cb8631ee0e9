local cur = tonumber(redis.call('HGET', KEYS[1], 'card_rev') or '0') or 0
if tonumber(ARGV[1]) > cur and redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'card_rev', ARGV[1], 'card_at', ARGV[2])
end
return 1
