#include "gateway/policies/token_limit/redis_store.hpp"

#include <array>
#include <atomic>
#include <charconv>
#include <initializer_list>

#include <boost/container/small_vector.hpp>

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

namespace {

std::atomic<std::uint64_t> next_store_id{1};

// A limit's two keys for one counter and quota period, as text and in RESP's form, and its two
// numbers as the reserve script takes them. A request used to build them four times (two for its
// reservation, two for its settlement: ~1,800 instructions of allocations and copies); a thread
// now builds them once and keeps the last few dozen it used.
struct LimitKeys {
  std::uint64_t store = 0;  // RedisStore::id_: a store's prefix, and a limit's address only
                            // within that store's life (a reload makes both anew)
  const LimitSpec* limit = nullptr;
  std::int64_t period_start = 0;
  std::string counter;
  std::string window;
  std::string quota;
  std::string window_written;
  std::string quota_written;
  std::string limits_written;  // the limit's tokens_per_minute and token_quota, two arguments
  std::uint64_t use = 0;       // the KeptLimitKeys use that last returned it
};

constexpr std::size_t kKeptKeys = 32;

// The keys a thread keeps. Within one use (begin() to the next begin()), what of() returned stays
// as it is, for up to kKeptKeys of them: settle() holds views of a request's keys while it looks
// up the next.
class KeptLimitKeys {
 public:
  void begin() { ++use_; }

  const LimitKeys& of(std::uint64_t store, const std::string& prefix, const LimitSpec& limit,
                      const std::string& counter, std::int64_t period_start) {
    for (auto& keys : kept_) {
      if (keys.limit == &limit && keys.store == store && keys.period_start == period_start &&
          keys.counter == counter) {
        keys.use = use_;
        return keys;
      }
    }
    // Made anew in the next slot that this use has not returned: in turn, as before the cache,
    // for a thread that sees more counters than it keeps.
    std::size_t slot = next_;
    for (std::size_t tried = 1; tried < kept_.size() && kept_[slot].use == use_; ++tried) {
      slot = (slot + 1) % kept_.size();
    }
    next_ = (slot + 1) % kept_.size();
    LimitKeys& keys = kept_[slot];
    keys.store = store;
    keys.limit = &limit;
    keys.period_start = period_start;
    keys.counter = counter;
    keys.window = window_key(prefix, limit, counter);
    keys.quota = quota_key(prefix, limit, period_start, counter);
    keys.window_written = RespStrings::written(keys.window);
    keys.quota_written = RespStrings::written(keys.quota);
    keys.limits_written = RespStrings::written(limit.tokens_per_minute);
    keys.limits_written += RespStrings::written(limit.token_quota);
    keys.use = use_;
    return keys;
  }

 private:
  std::array<LimitKeys, kKeptKeys> kept_;
  std::size_t next_ = 0;
  std::uint64_t use_ = 1;
};

thread_local KeptLimitKeys kept_keys;

}  // namespace

RedisStore::RedisStore(const RedisSettings& settings)
    : settings_(settings),
      client_(settings, {kReserveScript, kSettleScript}),
      id_(next_store_id.fetch_add(1, std::memory_order_relaxed)) {}

void RedisStore::build_reserve(std::span<const Charge> charges, const Instant& now,
                               RespStrings& keys, RespStrings& args) const {
  // A key of ~40 bytes and six numbers a charge, with their RESP heads.
  keys.reserve(charges.size() * 100);
  args.reserve(32 + charges.size() * 96);
  args.add(now.window_ms);
  args.add(static_cast<std::int64_t>(charges.size()));
  kept_keys.begin();
  for (const auto& charge : charges) {
    const LimitSpec& limit = *charge.limit;
    auto period = period_bounds(limit.token_quota_period, now.wall);
    // Copied at once: no view is held past the next look-up.
    const LimitKeys& limit_keys =
        kept_keys.of(id_, settings_.key_prefix, limit, charge.counter, period.start);
    keys.add_written(limit_keys.window_written);
    keys.add_written(limit_keys.quota_written);
    args.add_written(limit_keys.limits_written, 2);
    args.add(std::max<std::int64_t>(0, charge.tokens));
    args.add(quota_ttl(period, now.wall));
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
  RespStrings keys;
  RespStrings args;
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
  // The entries view keys this thread keeps (KeptLimitKeys), which stay as they are within one
  // use of at most kKeptKeys, so they go to the coalescer in groups smaller than that: one group
  // for any request with fewer than 16 limits. A request with more has its `done` told only of
  // the last group's flush.
  constexpr std::size_t kGroup = kKeptKeys / 2;
  bool flush = false;
  for (std::size_t first = 0; first < settlements.size(); first += kGroup) {
    const std::size_t last = std::min(settlements.size(), first + kGroup);
    boost::container::small_vector<SettleEntry, 2> entries;
    entries.reserve(last - first);
    kept_keys.begin();
    for (const auto& settlement : settlements.subspan(first, last - first)) {
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
      const LimitKeys& keys =
          kept_keys.of(id_, settings_.key_prefix, limit, settlement.counter, quota_period);
      entries.push_back(SettleEntry{keys.window, keys.quota, settlement.bucket,
                                    limit.tokens_per_minute > 0 ? settlement.delta : 0, quota_delta,
                                    quota_ttl(period, now.wall)});
    }
    const bool whole = last == settlements.size();
    flush |= settling_->coalescer.add(entries, now.window_ms,
                                      whole ? std::move(done) : SettlementCoalescer::Done{});
  }
  if (!flush) return;  // joins the queued flush
  // Settlements are not on a request's critical path: they may wait in the queue longer.
  auto deadline = SteadyClock::now() + 10 * settings_.timeout;
  auto batch = std::make_shared<SettlementCoalescer::Batch>();
  client_.eval_prepared(
      executor, kSettle,
      [settling = settling_, batch](RespStrings& keys, RespStrings& args) {
        *batch = settling->coalescer.take();
        settling->scripts.fetch_add(1, std::memory_order_relaxed);
        keys.reserve(batch->entries.size() * 100);
        args.reserve(32 + batch->entries.size() * 64);
        args.add(batch->now_ms);
        args.add(static_cast<std::int64_t>(batch->entries.size()));
        for (const auto& entry : batch->entries) {
          keys.add(entry.window_key);
          keys.add(entry.quota_key);
          args.add(entry.bucket);
          args.add(entry.window_delta);
          args.add(entry.quota_delta);
          args.add(entry.quota_ttl_seconds);
        }
      },
      deadline,
      [batch](RedisReply reply) {
        bool ok = reply.status == RedisReply::Status::kOk;
        for (auto& done : batch->dones) done(ok, reply.error);
      });
}

}  // namespace sluice::gateway::token_limit
