-- Keeps Xplenty's summary of why a job failed on a tracked job, unless the
-- job already shows one or has ended (its reply may be out already).
-- KEYS[1] job:{id}
-- ARGV[1] error summary, ARGV[2] action items (JSON array)
-- ARGV[3] onwards: the terminal statuses.
local terminal = {}
for i = 3, #ARGV do terminal[ARGV[i]] = true end
local st = redis.call('HGET', KEYS[1], 'status')
if not st or terminal[st] then return 0 end
redis.call('HSET', KEYS[1], 'error_summary', ARGV[1], 'action_items', ARGV[2])
return 1
