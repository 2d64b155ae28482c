#include "gateway/policies/token_limit/redis_store.hpp"

#include <charconv>
#include <initializer_list>

#include "gateway/policies/token_limit/redis_scripts.hpp"
#include "gateway/policies/token_limit/sliding_window.hpp"

namespace sluice::gateway::token_limit {

namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr std::size_t kReserve = 0;
constexpr std::size_t kSettle = 1;

std::int64_t seconds_of(std::chrono::system_clock::time_point at) {
  return std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count();
}

// Keys expire a minute after their period ends, so a late settlement still finds them.
std::int64_t quota_ttl(const PeriodBounds& period, std::chrono::system_clock::time_point now) {
  return std::max<std::int64_t>(1, period.end - seconds_of(now) + 60);
}

// A key's parts joined, sized once: a request makes four keys (reserve and settle).
std::string joined(std::initializer_list<std::string_view> parts) {
  std::size_t size = 0;
  for (auto part : parts) size += part.size();
  std::string key;
  key.reserve(size);
  for (auto part : parts) key.append(part);
  return key;
}

}  // namespace

std::string window_key(const std::string& prefix, const LimitSpec& limit,
                       const std::string& counter) {
  return joined({prefix, "tl:", limit.name, ":win:", counter});
}

std::string quota_key(const std::string& prefix, const LimitSpec& limit, std::int64_t period_start,
                      const std::string& counter) {
  char digits[24];
  const char* end = std::to_chars(digits, digits + sizeof digits, period_start).ptr;
  return joined({prefix, "tl:", limit.name, ":q:",
                 std::string_view(digits, static_cast<std::size_t>(end - digits)), ":", counter});
}

RedisStore::RedisStore(const RedisSettings& settings)
    : settings_(settings), client_(settings, {kReserveScript, kSettleScript}) {}

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
  // One part of its loop's turn's batch: Redis reads and writes each window once for all of them.
  RedisReply reply = co_await eval_batched_on(client_, kReserve, std::move(keys), std::move(args),
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

void RedisStore::settle(const RedisClient::Executor& executor,
                        std::span<const Settlement> settlements, const Instant& now,
                        std::function<void(bool ok, const std::string& error)> done) {
  std::vector<SettleEntry> entries;
  entries.reserve(settlements.size());
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
    entries.push_back(
        SettleEntry{window_key(settings_.key_prefix, limit, settlement.counter),
                    quota_key(settings_.key_prefix, limit, quota_period, settlement.counter),
                    settlement.bucket, limit.tokens_per_minute > 0 ? settlement.delta : 0,
                    quota_delta, quota_ttl(period, now.wall)});
  }
  if (!settling_->coalescer.add(entries, now.window_ms, std::move(done))) {
    return;  // joins the queued flush
  }
  // Settlements are not on a request's critical path: they may wait in the queue longer.
  auto deadline = SteadyClock::now() + 10 * settings_.timeout;
  auto batch = std::make_shared<SettlementCoalescer::Batch>();
  client_.eval_prepared(
      executor, kSettle,
      [settling = settling_, batch](std::vector<std::string>& keys,
                                    std::vector<std::string>& args) {
        *batch = settling->coalescer.take();
        settling->scripts.fetch_add(1, std::memory_order_relaxed);
        keys.reserve(batch->entries.size() * 2);
        args.reserve(2 + batch->entries.size() * 4);
        args.push_back(std::to_string(batch->now_ms));
        args.push_back(std::to_string(batch->entries.size()));
        for (auto& entry : batch->entries) {
          keys.push_back(std::move(entry.window_key));
          keys.push_back(std::move(entry.quota_key));
          args.push_back(std::to_string(entry.bucket));
          args.push_back(std::to_string(entry.window_delta));
          args.push_back(std::to_string(entry.quota_delta));
          args.push_back(std::to_string(entry.quota_ttl_seconds));
        }
      },
      deadline,
      [batch](RedisReply reply) {
        bool ok = reply.status == RedisReply::Status::kOk;
        for (auto& done : batch->dones) done(ok, reply.error);
      });
}

}  // namespace sluice::gateway::token_limit
