-- One token-limit step for one request key, over every window configured for it, as one atomic step: a reservation
-- (check 1) is charged only when every window covers it, an adjustment (check 0) is charged unchecked. The
-- arithmetic is TokenBuckets.java's: a token bucket per window, refilled continuously up to its capacity, which may
-- go below zero when a call used more than it reserved.
--
-- KEYS[i]  the hash of window i for this request's key
-- ARGV     check (1 or 0), tokens (negative gives tokens back), then 2 numbers per window: capacity, period in
--          microseconds
-- returns  4 integers per window: admitted (1 or 0), remaining tokens, microseconds until the window is full again,
--          microseconds until it would admit the reservation (0 when it did)
--
-- Time is the server's (TIME), never a gateway's. Each hash expires when its window would be full again.

if redis.replicate_commands then
  redis.replicate_commands()
end

local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000000 + tonumber(time[2])
local check = ARGV[1] == '1'
local tokens = tonumber(ARGV[2])
local result, refilled, admitted = {}, {}, true

for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i + 1])
  local period = tonumber(ARGV[2 * i + 2])
  local stored = redis.call('HMGET', key, 'tokens', 'ts')
  local level, last = tonumber(stored[1]), tonumber(stored[2])
  if level == nil or last == nil then
    level, last = capacity, now
  end
  refilled[i] = math.min(capacity, level + math.max(0, now - last) * capacity / period)
  admitted = admitted and (not check or refilled[i] >= math.min(tokens, capacity))
end

for i, key in ipairs(KEYS) do
  local capacity = tonumber(ARGV[2 * i + 1])
  local period = tonumber(ARGV[2 * i + 2])
  local after = refilled[i]
  if admitted then
    after = math.min(capacity, refilled[i] - tokens)
  end
  local short = math.min(tokens, capacity) - refilled[i]
  local ok = admitted or short <= 0
  local reset = (capacity - after) * period / capacity
  local base = (i - 1) * 4
  result[base + 1] = ok and 1 or 0
  result[base + 2] = math.floor(after)
  result[base + 3] = math.ceil(reset)
  result[base + 4] = ok and 0 or math.ceil(short * period / capacity)
  if admitted then
    redis.call('HSET', key, 'tokens', string.format('%.17g', after), 'ts', string.format('%d', now))
    redis.call('PEXPIRE', key, math.max(1, math.ceil(reset / 1000)))
  end
end
return result
