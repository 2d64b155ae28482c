#include "gateway/policies/token_limit/redis_scripts.hpp"

namespace sluice::gateway::token_limit {

// Used values are after the charge when admitted, before it otherwise. The window rule is
// sliding_window.hpp's: buckets current-60 and newer count; a bucket stops counting at
// (bucket + 61) s. Each window remembers the latest time it was used at (field "now"), and a
// request carrying an older time (read before a slow round trip, or from a host whose clock lags)
// is taken to happen at that time: otherwise it could count buckets that a later request has
// already dropped, and let more than the limit into one window.
//
// One call runs the reservations a worker's requests asked for in one turn of its event loop, in
// the order they were asked (redis_client.hpp, eval_batched), each exactly as if it ran alone.
// What makes the batch cheaper than one call each is that a window or quota key is read once per
// call and written once at its end: `windows` and `quotas` hold what was read and every change
// since, and everything that reads Redis directly (a slide's old buckets, a recount, a refusal's
// wait) writes the window's pending changes first.
//
// slide() brings the running total up to `oldest`: the buckets from "from" to oldest-1 are
// subtracted and deleted. No bucket below "from" is ever written (both scripts take the window's
// time as the latest of theirs and "now", and "from" is at most that time's bucket - 60), so those
// are all the buckets that left. When "from" is far behind (the clock jumped) or missing, the
// total is counted again from every bucket.
const char* const kReserveScript = R"lua(
local windows, quotas = {}, {}

-- The window `key` as read (its latest time, running total, oldest bucket, and the bucket
-- `bucket`), with every change this call made to it. Changed fields are in `dirty`.
local function window(key, bucket)
  local w = windows[key]
  if w then return w end
  local state = redis.call('HMGET', key, 'now', 'total', 'from', bucket)
  w = {key = key, latest = tonumber(state[1] or '0'), total = tonumber(state[2]),
       from = tonumber(state[3]), buckets = {[bucket] = tonumber(state[4] or '0')}, dirty = {}}
  windows[key] = w
  return w
end

local function bucket_value(w, bucket)
  local value = w.buckets[bucket]
  if value == nil then
    value = tonumber(redis.call('HGET', w.key, bucket) or '0')
    w.buckets[bucket] = value
  end
  return value
end

local function write(w)
  local fields = {}
  for field in pairs(w.dirty) do
    local value
    if field == 'now' then value = w.latest
    elseif field == 'total' then value = w.total
    elseif field == 'from' then value = w.from
    else value = w.buckets[field] end
    fields[#fields + 1] = field
    fields[#fields + 1] = value
  end
  if #fields > 0 then redis.call('HSET', w.key, unpack(fields)) end
  w.dirty = {}
end

-- After buckets below `oldest` were deleted in Redis: forget them here too.
local function forget_below(w, oldest)
  for bucket in pairs(w.buckets) do
    if bucket < oldest then w.buckets[bucket] = nil end
  end
end

local function recount(w, oldest)
  local fields = redis.call('HGETALL', w.key)
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
  if #stale > 0 then redis.call('HDEL', w.key, unpack(stale)) end
  return total
end

local function slide(w, oldest)
  local total, from = w.total, w.from
  if total ~= nil and from ~= nil and from >= oldest then return total end
  write(w)
  if total == nil or from == nil or oldest - from > 64 then
    total = recount(w, oldest)
  else
    local names = {}
    for bucket = from, oldest - 1 do names[#names + 1] = bucket end
    local values = redis.call('HMGET', w.key, unpack(names))
    local stale = {}
    for j = 1, #names do
      if values[j] then
        total = total - tonumber(values[j])
        stale[#stale + 1] = names[j]
      end
    end
    if #stale > 0 then redis.call('HDEL', w.key, unpack(stale)) end
  end
  forget_below(w, oldest)
  w.total, w.from = total, oldest
  w.dirty.total, w.dirty.from = true, true
  return total
end

-- Milliseconds until `excess` tokens have left the window: the live buckets, oldest first.
local function wait_for(w, oldest, excess, now)
  write(w)
  local fields = redis.call('HGETALL', w.key)
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

local function quota_of(key)
  local q = quotas[key]
  if q then return q end
  local value = redis.call('GET', key)
  q = {used = tonumber(value or '0'), new = not value, added = 0}
  if q.used == nil then error('the quota counter ' .. key .. ' does not hold an integer') end
  quotas[key] = q
  return q
end

-- Numbers come as text; converting one is a strtod, and most repeat in a batch (the limits, the
-- time): each is converted once.
local numbers = {}
local function number(text)
  local value = numbers[text]
  if value == nil then
    value = tonumber(text)
    numbers[text] = value
  end
  return value
end

-- One reservation, its keys from KEYS[k + 1] and its arguments from ARGV[a + 1]. Keys: per limit
-- i, its window key and quota key. Arguments: now_ms, n, then per limit: tokens_per_minute,
-- token_quota, tokens, quota_ttl_seconds. Appends its reply to `out`: its length, then admitted
-- (0/1), bucket, and per limit: window_used, quota_used, wait_ms (-1: never). Appends nothing when
-- it fails.
local ws, tpm_limits, quota_limits, tokens_of = {}, {}, {}, {}
local used_of, quota_used_of, wait_of = {}, {}, {}
local function reserve(k, a, out)
  local now = number(ARGV[a + 1])
  local n = number(ARGV[a + 2])
  -- The bucket of the request's own time: read with the window, since it is nearly always the one
  -- charged (unless a window's latest time is later).
  local guess = math.floor(now / 1000)
  for i = 1, n do
    local b = a + 2 + (i - 1) * 4
    tpm_limits[i], quota_limits[i] = number(ARGV[b + 1]), number(ARGV[b + 2])
    tokens_of[i] = number(ARGV[b + 3])
    if tpm_limits[i] > 0 then
      local w = window(KEYS[k + 2 * i - 1], guess)
      ws[i] = w
      if w.latest > now then now = w.latest end
    end
  end
  local current = math.floor(now / 1000)
  local oldest = current - 60
  local fits = true
  for i = 1, n do
    local tpm, quota = tpm_limits[i], quota_limits[i]
    local need = math.max(tokens_of[i], 1)
    local used, quota_used, wait = 0, 0, 0
    if tpm > 0 then
      used = slide(ws[i], oldest)
      if need > tpm then
        wait = -1
      elseif used + need > tpm then
        wait = wait_for(ws[i], oldest, used + need - tpm, now)
      end
      if wait ~= 0 then fits = false end
    end
    if quota > 0 then
      quota_used = quota_of(KEYS[k + 2 * i]).used
      if quota_used + need > quota then fits = false end
    end
    used_of[i], quota_used_of[i], wait_of[i] = used, quota_used, wait
  end
  for i = 1, n do
    local tokens = tokens_of[i]
    if tpm_limits[i] > 0 then
      local w = ws[i]
      if fits and tokens > 0 then
        w.buckets[current] = bucket_value(w, current) + tokens
        w.total = w.total + tokens
        w.dirty[current] = true
        w.dirty.total = true
        -- What this limit saw, plus its own charge (a second limit of the request on the same
        -- window, two sections sharing a limit's name, does not see the first's).
        used_of[i] = used_of[i] + tokens
      end
      w.latest = now
      w.dirty.now = true
    end
    if fits and tokens > 0 and quota_limits[i] > 0 then
      local q = quota_of(KEYS[k + 2 * i])
      q.used = q.used + tokens
      q.added = q.added + tokens
      -- The expiry is the period's end (plus a minute) whenever it is set: once, with the key.
      if q.new and not q.ttl then q.ttl = number(ARGV[a + 2 + (i - 1) * 4 + 4]) end
      quota_used_of[i] = quota_used_of[i] + tokens
    end
  end
  local at = #out
  out[at + 1], out[at + 2], out[at + 3] = 2 + 3 * n, fits and 1 or 0, current
  at = at + 3
  for i = 1, n do
    out[at + 1], out[at + 2], out[at + 3] = used_of[i], quota_used_of[i], wait_of[i]
    at = at + 3
  end
end

local count = tonumber(ARGV[1])
local out = {}
local k, a = 0, 1
for part = 1, count do
  local nkeys, nargs = tonumber(ARGV[a + 1]), tonumber(ARGV[a + 2])
  if count == 1 then
    reserve(k, a + 2, out)  -- alone, a failure is the call's error, with its message
  elseif not pcall(reserve, k, a + 2, out) then
    out[#out + 1] = -1  -- the client sends this one again alone
  end
  k, a = k + nkeys, a + 2 + nargs
end
for _, w in pairs(windows) do
  write(w)
  redis.call('PEXPIRE', w.key, 62000)
end
for key, q in pairs(quotas) do
  if q.added > 0 then
    redis.call('INCRBY', key, q.added)
    if q.ttl then redis.call('EXPIRE', key, q.ttl) end
  end
end
return out
)lua";

// A bucket that has left the window takes no refund; a positive delta for it goes to the current
// bucket. Counters never go below zero, and a refund never creates a key. The running total
// moves by what the bucket really moved.
//
// The entries run one after another, as separate calls would, but each window and quota key is
// read once and written once at the end: a flush carries a turn's settlements, often several on
// one key (a charge and a refund of the same bucket, kept apart by the coalescer).
const char* const kSettleScript = R"lua(
local arg_now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
local windows, quotas = {}, {}
local order_w, order_q = {}, {}

-- The window `key` as read: its time, running total and the bucket `bucket` (the entry's, nearly
-- always the one it moves) in one read.
local function window(key, bucket)
  local w = windows[key]
  if w then return w end
  local state = redis.call('HMGET', key, 'now', 'total', bucket)
  -- No "now": no window yet (or it expired), so its total starts at zero. A window that has one
  -- but no total is counted again by the next reservation: none is made up here.
  local total = tonumber(state[2])
  if not state[1] then total = 0 end
  w = {now = math.max(arg_now, tonumber(state[1] or '0')), total = total,
       buckets = {[bucket] = tonumber(state[3] or '0')}, changed = {}, total_touched = false,
       written = false}
  windows[key] = w
  order_w[#order_w + 1] = key
  return w
end

local function bucket_value(key, w, bucket)
  local value = w.buckets[bucket]
  if value == nil then
    value = tonumber(redis.call('HGET', key, bucket) or '0')
    w.buckets[bucket] = value
  end
  return value
end

local function quota(key)
  local q = quotas[key]
  if q then return q end
  local value = redis.call('GET', key)
  q = {value = value and tonumber(value), changed = false}
  if value and q.value == nil then error('the quota counter ' .. key .. ' does not hold an integer') end
  quotas[key] = q
  order_q[#order_q + 1] = key
  return q
end

for i = 1, n do
  local b = 2 + (i - 1) * 4
  local bucket, dw, dq = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local window_key, quota_key = KEYS[2 * i - 1], KEYS[2 * i]
  if dw ~= 0 then
    local w = window(window_key, bucket)
    local current = math.floor(w.now / 1000)
    if bucket < current - 60 then
      if dw > 0 then bucket = current else bucket = nil end
    end
    if bucket then
      local old = bucket_value(window_key, w, bucket)
      if dw > 0 or old > 0 then
        local value = math.max(0, old + dw)
        w.buckets[bucket] = value
        w.changed[bucket] = true
        if value > 0 then w.written = true end
        if w.total ~= nil then w.total = w.total + value - old end
        w.total_touched = true
      end
    end
  end
  if dq ~= 0 then
    local q = quota(quota_key)
    if dq > 0 or q.value ~= nil then
      local value = (q.value or 0) + dq
      if value <= 0 then value = nil else q.ttl = tonumber(ARGV[b + 4]) end
      q.value = value
      q.changed = true
    end
  end
end

for _, key in ipairs(order_w) do
  local w = windows[key]
  local set, gone = {}, {}
  for bucket in pairs(w.changed) do
    local value = w.buckets[bucket]
    if value > 0 then
      set[#set + 1] = bucket
      set[#set + 1] = value
    else
      gone[#gone + 1] = bucket
    end
  end
  if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
  if w.total_touched and w.total ~= nil then
    set[#set + 1] = 'total'
    set[#set + 1] = w.total
  end
  -- 'now' as each write of a bucket above zero set it, even if a later entry took it to zero.
  if w.written then
    redis.call('HSET', key, 'now', w.now, unpack(set))
    redis.call('PEXPIRE', key, 62000)
  elseif #set > 0 then
    redis.call('HSET', key, unpack(set))
  end
end
for _, key in ipairs(order_q) do
  local q = quotas[key]
  if q.changed then
    if q.value == nil then
      redis.call('DEL', key)
    else
      redis.call('SET', key, q.value, 'EX', q.ttl)
    end
  end
end
return n
)lua";

}  // namespace sluice::gateway::token_limit
