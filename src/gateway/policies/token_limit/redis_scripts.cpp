#include "gateway/policies/token_limit/redis_scripts.hpp"

namespace sluice::gateway::token_limit {

// Used values are after the charge when admitted, before it otherwise. The window rule is
// sliding_window.hpp's: buckets current-60 and newer count; a bucket stops counting at
// (bucket + 61) s. Each window remembers the latest time it was used at (field "now"), and a
// request carrying an older time (read before a slow round trip, or from a host whose clock lags)
// is taken to happen at that time: otherwise it could count buckets that a later request has
// already dropped, and let more than the limit into one window.
//
// slide() brings the running total up to `oldest`: the buckets from "from" to oldest-1 are
// subtracted and deleted. No bucket below "from" is ever written (both scripts take the window's
// time as the latest of theirs and "now", and "from" is at most that time's bucket - 60), so those
// are all the buckets that left. When "from" is far behind (the clock jumped) or missing, the
// total is counted again from every bucket.
const char* const kReserveScript = R"lua(
local function recount(key, oldest)
  local fields = redis.call('HGETALL', key)
  local total, stale = 0, {}
  for j = 1, #fields, 2 do
    local bucket = tonumber(fields[j])
    if bucket then
      if bucket < oldest then
        stale[#stale + 1] = fields[j]
      else
        total = total + tonumber(fields[j + 1])
      end
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return total
end

-- `state` is the window's HMGET of 'now', 'total', 'from' (and the current bucket).
local function slide(key, oldest, state)
  local total, from = tonumber(state[2]), tonumber(state[3])
  if total == nil or from == nil or oldest - from > 64 then
    total = recount(key, oldest)
  elseif from < oldest then
    local names = {}
    for bucket = from, oldest - 1 do names[#names + 1] = bucket end
    local values = redis.call('HMGET', key, unpack(names))
    local stale = {}
    for j = 1, #names do
      if values[j] then
        total = total - tonumber(values[j])
        stale[#stale + 1] = names[j]
      end
    end
    if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  else
    return total
  end
  redis.call('HSET', key, 'total', total, 'from', oldest)
  return total
end

-- Milliseconds until `excess` tokens have left the window: the live buckets, oldest first.
local function wait_for(key, oldest, excess, now)
  local fields = redis.call('HGETALL', key)
  local live = {}
  for j = 1, #fields, 2 do
    local bucket, value = tonumber(fields[j]), tonumber(fields[j + 1])
    if bucket and bucket >= oldest and value > 0 then live[#live + 1] = {bucket, value} end
  end
  table.sort(live, function(x, y) return x[1] < y[1] end)
  local freed = 0
  for _, entry in ipairs(live) do
    freed = freed + entry[2]
    if freed >= excess then return math.max(1, (entry[1] + 61) * 1000 - now) end
  end
  return math.max(1, (math.floor(now / 1000) + 61) * 1000 - now)
end

local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
-- One read per window: its latest time, running total, oldest bucket, and the bucket of the
-- request's own time (the current one, unless a window's latest time is later).
local guess = tostring(math.floor(now / 1000))
local states = {}
for i = 1, n do
  if tonumber(ARGV[2 + (i - 1) * 4 + 1]) > 0 then
    states[i] = redis.call('HMGET', KEYS[2 * i - 1], 'now', 'total', 'from', guess)
    local latest = tonumber(states[i][1] or '0')
    if latest > now then now = latest end
  end
end
local current = math.floor(now / 1000)
local oldest = current - 60
local fits = true
local standing = {}
local quota_new = {}
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local tpm, quota, tokens = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local need = math.max(tokens, 1)
  local used, quota_used, wait = 0, 0, 0
  if tpm > 0 then
    used = slide(KEYS[2 * i - 1], oldest, states[i])
    if need > tpm then
      wait = -1
    elseif used + need > tpm then
      wait = wait_for(KEYS[2 * i - 1], oldest, used + need - tpm, now)
    end
    if wait ~= 0 then fits = false end
  end
  if quota > 0 then
    local value = redis.call('GET', KEYS[2 * i])
    quota_new[i] = not value
    quota_used = tonumber(value or '0')
    if quota_used + need > quota then fits = false end
  end
  standing[i] = {used, quota_used, wait}
end
local written = {}
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local tpm, quota, tokens = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  if tpm > 0 then
    local key = KEYS[2 * i - 1]
    if fits and tokens > 0 and not written[key] then
      local held = 0
      if tostring(current) == guess then
        held = tonumber(states[i][4] or '0')
      else
        held = tonumber(redis.call('HGET', key, current) or '0')
      end
      -- The bucket, the running total and the latest time in one write, from what was read.
      redis.call('HSET', key, current, held + tokens, 'total', standing[i][1] + tokens, 'now', now)
      written[key] = true
      standing[i][1] = standing[i][1] + tokens
    elseif fits and tokens > 0 then
      -- A second limit of the request on the same window (two sections sharing a limit's name):
      -- what was read is out of date.
      redis.call('HINCRBY', key, current, tokens)
      redis.call('HINCRBY', key, 'total', tokens)
      redis.call('HSET', key, 'now', now)
      standing[i][1] = standing[i][1] + tokens
    else
      redis.call('HSET', key, 'now', now)
    end
    redis.call('PEXPIRE', key, 62000)
  end
  if fits and tokens > 0 and quota > 0 then
    redis.call('INCRBY', KEYS[2 * i], tokens)
    -- The expiry is the period's end (plus a minute) whenever it is set: once, with the key.
    if quota_new[i] then redis.call('EXPIRE', KEYS[2 * i], tonumber(ARGV[b + 4])) end
    standing[i][2] = standing[i][2] + tokens
  end
end
local reply = {fits and 1 or 0, current}
for i = 1, n do
  reply[#reply + 1] = standing[i][1]
  reply[#reply + 1] = standing[i][2]
  reply[#reply + 1] = standing[i][3]
end
return reply
)lua";

// A bucket that has left the window takes no refund; a positive delta for it goes to the current
// bucket. Counters never go below zero, and a refund never creates a key. The running total
// moves by what the bucket really moved.
const char* const kSettleScript = R"lua(
local n = tonumber(ARGV[2])
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local bucket, dw, dq = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local window, quota = KEYS[2 * i - 1], KEYS[2 * i]
  if dw ~= 0 then
    local now = math.max(tonumber(ARGV[1]), tonumber(redis.call('HGET', window, 'now') or '0'))
    local current = math.floor(now / 1000)
    if bucket < current - 60 then
      if dw > 0 then bucket = current else bucket = nil end
    end
    if bucket then
      local old = tonumber(redis.call('HGET', window, bucket) or '0')
      if dw > 0 or old > 0 then
        local value = math.max(0, old + dw)
        if value == 0 then
          redis.call('HDEL', window, bucket)
        else
          redis.call('HSET', window, bucket, value, 'now', now)
          redis.call('PEXPIRE', window, 62000)
        end
        redis.call('HINCRBY', window, 'total', value - old)
      end
    end
  end
  if dq ~= 0 and (dq > 0 or redis.call('EXISTS', quota) == 1) then
    local value = redis.call('INCRBY', quota, dq)
    if value <= 0 then redis.call('DEL', quota) else redis.call('EXPIRE', quota, tonumber(ARGV[b + 4])) end
  end
end
return n
)lua";

}  // namespace sluice::gateway::token_limit
