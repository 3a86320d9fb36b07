-- Rate-limit decisions for one or more requests, in order, each over every limit configured for it and each as one
-- atomic step: all of a request's limits are checked first, and only when every one admits the request are they all
-- charged. A refused request writes nothing. A gateway sends the requests that queued while it waited for Redis in
-- one call: one round trip and one script run for all of them, each decided as if alone.
--
-- KEYS     per request, one hash per limit: KEYS[(r - 1) * L + i] is limit i of request r, for L limits
-- ARGV     4 numbers per limit: algorithm (1 token bucket, 2 leaky bucket run as GCRA), rate, period in
--          microseconds, burst
-- returns  per request, 4 integers per limit: admitted (1 or 0), remaining requests, microseconds until the bucket
--          is full again, microseconds until it would admit the request (0 when it did)
--
-- A token bucket keeps its tokens and the time of its last refill together in one hash ('tokens', 'ts'); a leaky
-- bucket keeps its theoretical arrival time ('tat'). Time is the server's (TIME), never a gateway's, so gateways
-- whose clocks differ share one consistent limit. Each hash expires when its bucket would be full again, when it
-- holds nothing a missing key would not.

-- Redis before 5 replicates a script by its text unless told otherwise, which forbids writes after TIME; 5 and
-- later replicate effects by default and keep this call only as a no-op.
if redis.replicate_commands then
  redis.replicate_commands()
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local limits = #ARGV / 4
local result = {}

-- Request r's limits are KEYS[first + 1] to KEYS[first + limits].
for first = 0, #KEYS - limits, limits do
  local writes, admitted = {}, true
  for i = 1, limits do
    local key = KEYS[first + i]
    local base = (i - 1) * 4
    local algorithm = tonumber(ARGV[base + 1])
    local rate = tonumber(ARGV[base + 2])
    local period = tonumber(ARGV[base + 3])
    local burst = tonumber(ARGV[base + 4])
    local ok, remaining, reset, retry
    if algorithm == 1 then
      local stored = redis.call('HMGET', key, 'tokens', 'ts')
      local tokens, last = tonumber(stored[1]), tonumber(stored[2])
      if tokens == nil or last == nil then
        tokens, last = burst, now
      end
      tokens = math.min(burst, tokens + math.max(0, now - last) * rate / period)
      ok = tokens >= 1
      retry = 0
      if ok then
        tokens = tokens - 1
      else
        retry = (1 - tokens) * period / rate
      end
      remaining = math.floor(tokens)
      reset = (burst - tokens) * period / rate
      writes[i] = {'tokens', string.format('%.17g', tokens), 'ts', string.format('%d', now)}
    else
      local interval = period / rate
      local span = burst * interval
      local tat = math.max(tonumber(redis.call('HGET', key, 'tat')) or now, now)
      ok = tat + interval - now <= span
      retry = 0
      if ok then
        tat = tat + interval
      else
        retry = tat + interval - now - span
      end
      remaining = math.max(0, math.floor((span - (tat - now)) / interval))
      reset = tat - now
      writes[i] = {'tat', string.format('%.17g', tat)}
    end
    admitted = admitted and ok
    writes[i].ttl = math.max(1, math.ceil(reset / 1000))
    local at = #result
    result[at + 1] = ok and 1 or 0
    result[at + 2] = remaining
    result[at + 3] = math.ceil(reset)
    result[at + 4] = math.ceil(retry)
  end

  if admitted then
    for i = 1, limits do
      redis.call('HSET', KEYS[first + i], unpack(writes[i]))
      redis.call('PEXPIRE', KEYS[first + i], writes[i].ttl)
    end
  end
end
return result
