#include "gateway/policies/token_limit/redis_store.hpp"

#include "gateway/policies/token_limit/sliding_window.hpp"

namespace sluice::gateway::token_limit {

namespace {

using SteadyClock = std::chrono::steady_clock;

// KEYS: per limit i: window key, quota key.
// ARGV: now_ms, n, then per limit: tokens_per_minute, token_quota, tokens, quota_ttl_seconds.
// Reply: admitted (0/1), bucket, then per limit: window_used, quota_used, wait_ms (-1: never).
// Used values are after the charge when admitted, before it otherwise. The window rule is
// sliding_window.hpp's: buckets current-60 and newer count; a bucket stops counting at
// (bucket + 61) s. Each window remembers the latest time it was used at (field "now"), and a
// request carrying an older time (read before a slow round trip, or from a host whose clock lags)
// is taken to happen at that time: otherwise it could count buckets that a later request has
// already dropped, and let more than the limit into one window.
constexpr const char* kReserveScript = R"lua(
local now = tonumber(ARGV[1])
local n = tonumber(ARGV[2])
for i = 1, n do
  if tonumber(ARGV[2 + (i - 1) * 4 + 1]) > 0 then
    local latest = tonumber(redis.call('HGET', KEYS[2 * i - 1], 'now') or '0')
    if latest > now then now = latest end
  end
end
local current = math.floor(now / 1000)
local oldest = current - 60
local fits = true
local standing = {}
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local tpm, quota, tokens = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  local need = math.max(tokens, 1)
  local used, quota_used, wait = 0, 0, 0
  if tpm > 0 then
    local fields = redis.call('HGETALL', KEYS[2 * i - 1])
    local stale, live = {}, {}
    for j = 1, #fields, 2 do
      local bucket, value = tonumber(fields[j]), tonumber(fields[j + 1])
      if fields[j] == 'now' then
        -- the window's latest time, not a bucket
      elseif bucket < oldest then
        stale[#stale + 1] = fields[j]
      elseif value > 0 then
        used = used + value
        live[#live + 1] = {bucket, value}
      end
    end
    if #stale > 0 then redis.call('HDEL', KEYS[2 * i - 1], unpack(stale)) end
    if need > tpm then
      wait = -1
    elseif used + need > tpm then
      table.sort(live, function(x, y) return x[1] < y[1] end)
      local excess, freed = used + need - tpm, 0
      for _, entry in ipairs(live) do
        freed = freed + entry[2]
        if freed >= excess then
          wait = math.max(1, (entry[1] + 61) * 1000 - now)
          break
        end
      end
    end
    if wait ~= 0 then fits = false end
  end
  if quota > 0 then
    quota_used = tonumber(redis.call('GET', KEYS[2 * i]) or '0')
    if quota_used + need > quota then fits = false end
  end
  standing[i] = {used, quota_used, wait}
end
for i = 1, n do
  local b = 2 + (i - 1) * 4
  local tpm, quota, tokens = tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]), tonumber(ARGV[b + 3])
  if tpm > 0 then
    if fits and tokens > 0 then
      redis.call('HINCRBY', KEYS[2 * i - 1], current, tokens)
      standing[i][1] = standing[i][1] + tokens
    end
    redis.call('HSET', KEYS[2 * i - 1], 'now', now)
    redis.call('PEXPIRE', KEYS[2 * i - 1], 62000)
  end
  if fits and tokens > 0 and quota > 0 then
    redis.call('INCRBY', KEYS[2 * i], tokens)
    redis.call('EXPIRE', KEYS[2 * i], tonumber(ARGV[b + 4]))
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

// KEYS: per limit i: window key, quota key (of the period the delta belongs to).
// ARGV: now_ms, n, then per limit: bucket, window_delta, quota_delta, quota_ttl_seconds.
// A bucket that has left the window takes no refund; a positive delta for it goes to the current
// bucket. Counters never go below zero, and a refund never creates a key.
constexpr const char* kSettleScript = R"lua(
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
    if bucket and (dw > 0 or redis.call('HEXISTS', window, bucket) == 1) then
      local value = redis.call('HINCRBY', window, bucket, dw)
      if value <= 0 then
        redis.call('HDEL', window, bucket)
      else
        redis.call('HSET', window, 'now', now)
        redis.call('PEXPIRE', window, 62000)
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

constexpr std::size_t kReserve = 0;
constexpr std::size_t kSettle = 1;

std::int64_t seconds_of(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

// Keys expire a minute after their period ends, so a late settlement still finds them.
std::int64_t quota_ttl(const PeriodBounds& period, std::chrono::system_clock::time_point now) {
  return std::max<std::int64_t>(1, period.end - seconds_of(now) + 60);
}

}  // namespace

std::string window_key(const std::string& prefix, const LimitSpec& limit,
                       const std::string& counter) {
  return prefix + "tl:" + limit.name + ":w:" + counter;
}

std::string quota_key(const std::string& prefix, const LimitSpec& limit, std::int64_t period_start,
                      const std::string& counter) {
  return prefix + "tl:" + limit.name + ":q:" + std::to_string(period_start) + ":" + counter;
}

RedisStore::RedisStore(const RedisSettings& settings)
    : settings_(settings), pool_(settings, {kReserveScript, kSettleScript}) {}

void RedisStore::build_reserve(std::span<const Charge> charges, const Instant& now,
                               std::vector<std::string>& keys,
                               std::vector<std::string>& args) const {
  keys.reserve(charges.size() * 2);
  args.reserve(2 + charges.size() * 4);
  args.push_back(std::to_string(now.window_ms));
  args.push_back(std::to_string(charges.size()));
  for (const auto& charge : charges) {
    const LimitSpec& limit = *charge.limit;
    auto period = period_bounds(limit.token_quota_period, now.wall);
    keys.push_back(window_key(settings_.key_prefix, limit, charge.counter));
    keys.push_back(quota_key(settings_.key_prefix, limit, period.start, charge.counter));
    args.push_back(std::to_string(limit.tokens_per_minute));
    args.push_back(std::to_string(limit.token_quota));
    args.push_back(std::to_string(std::max<std::int64_t>(0, charge.tokens)));
    args.push_back(std::to_string(quota_ttl(period, now.wall)));
  }
}

bool RedisStore::parse_reserve(std::span<const Charge> charges, const Instant& now,
                               const std::vector<long long>& reply, ReserveResult& result) {
  if (reply.size() != 2 + 3 * charges.size()) return false;
  result.admitted = reply[0] == 1;
  result.bucket = reply[1];
  result.standing.resize(charges.size());
  for (std::size_t i = 0; i < charges.size(); ++i) {
    Standing& standing = result.standing[i];
    standing.window_used = reply[2 + 3 * i];
    standing.quota_used = reply[3 + 3 * i];
    standing.wait_ms = reply[4 + 3 * i];
    standing.period = period_bounds(charges[i].limit->token_quota_period, now.wall);
  }
  if (!result.admitted) {
    judge(charges, result);
    if (result.admitted) {
      // The script refused on a rule judge() does not see: refuse anyway, naming the first limit.
      result.admitted = false;
      result.refusal = Refusal::kRate;
      result.refused = 0;
      result.retry_after_ms = kBucketMs;
    }
  }
  return true;
}

http::Task<RedisStore::Answer> RedisStore::reserve(std::span<const Charge> charges,
                                                   const Instant& now) {
  std::vector<std::string> keys;
  std::vector<std::string> args;
  build_reserve(charges, now, keys, args);
  RedisReply reply = co_await eval_on(pool_, kReserve, std::move(keys), std::move(args),
                                      SteadyClock::now() + settings_.timeout);
  Answer answer;
  answer.status = reply.status;
  answer.error = std::move(reply.error);
  if (answer.status == RedisReply::Status::kOk &&
      !parse_reserve(charges, now, reply.integers, answer.result)) {
    answer.status = RedisReply::Status::kError;
    answer.error = "unexpected reply from the reserve script";
  }
  co_return answer;
}

void RedisStore::settle(std::span<const Settlement> settlements, const Instant& now,
                        std::function<void(bool ok, const std::string& error)> done) {
  std::vector<std::string> keys;
  std::vector<std::string> args;
  args.push_back(std::to_string(now.window_ms));
  args.push_back(std::to_string(settlements.size()));
  for (const auto& settlement : settlements) {
    const LimitSpec& limit = *settlement.limit;
    auto period = period_bounds(limit.token_quota_period, now.wall);
    std::int64_t quota_delta = 0;
    std::int64_t quota_period = settlement.period_start;
    if (limit.token_quota > 0) {
      if (period.start == settlement.period_start) {
        quota_delta = settlement.delta;
      } else if (settlement.delta > 0) {
        quota_delta = settlement.delta;  // ran into the next period: the excess counts there
        quota_period = period.start;
      }
    }
    keys.push_back(window_key(settings_.key_prefix, limit, settlement.counter));
    keys.push_back(quota_key(settings_.key_prefix, limit, quota_period, settlement.counter));
    args.push_back(std::to_string(settlement.bucket));
    args.push_back(std::to_string(limit.tokens_per_minute > 0 ? settlement.delta : 0));
    args.push_back(std::to_string(quota_delta));
    args.push_back(std::to_string(quota_ttl(period, now.wall)));
  }
  // Settlements are not on a request's critical path: they may wait in the queue longer.
  auto deadline = SteadyClock::now() + 10 * settings_.timeout;
  pool_.eval(kSettle, std::move(keys), std::move(args), deadline,
             [done = std::move(done)](RedisReply reply) {
               if (done) done(reply.status == RedisReply::Status::kOk, reply.error);
             });
}

}  // namespace sluice::gateway::token_limit
