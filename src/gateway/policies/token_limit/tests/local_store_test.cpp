#include "gateway/policies/token_limit/local_store.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "sluice/core/fake_clock.hpp"

namespace sluice::gateway::token_limit {
namespace {

using namespace std::chrono_literals;

LimitSpec rate_limit(std::string name, std::int64_t tpm) {
  LimitSpec spec;
  spec.name = std::move(name);
  spec.counter_key = {CounterKeyPart{}};
  spec.tokens_per_minute = tpm;
  return spec;
}

LimitSpec quota_limit(std::string name, std::int64_t quota, QuotaPeriod period) {
  LimitSpec spec;
  spec.name = std::move(name);
  spec.counter_key = {CounterKeyPart{}};
  spec.token_quota = quota;
  spec.token_quota_period = period;
  return spec;
}

class LocalStoreTest : public ::testing::Test {
 protected:
  Instant now() const {
    return Instant{
        std::chrono::duration_cast<std::chrono::milliseconds>(clock.steady_now().time_since_epoch())
            .count(),
        clock.system_now()};
  }
  ReserveResult reserve(std::vector<Charge> charges) { return store.reserve(charges, now()); }

  core::FakeClock clock;
  LocalStore store;
};

TEST_F(LocalStoreTest, AdmitsUpToTheLimitThenRefusesWithTheWait) {
  auto limit = rate_limit("tpm", 1000);
  EXPECT_TRUE(reserve({{&limit, "a", 600}}).admitted);
  clock.advance(10s);
  auto second = reserve({{&limit, "a", 400}});
  EXPECT_TRUE(second.admitted);
  EXPECT_EQ(second.standing[0].window_used, 1000);
  auto third = reserve({{&limit, "a", 1}});
  EXPECT_FALSE(third.admitted);
  EXPECT_EQ(third.refusal, Refusal::kRate);
  EXPECT_EQ(third.standing[0].window_used, 1000);
  EXPECT_EQ(third.retry_after_ms, 51'000);  // the first 600 leave at 61 s; it is now 10 s
  // Other callers have their own counters.
  EXPECT_TRUE(reserve({{&limit, "b", 1000}}).admitted);
  clock.advance(51s);
  EXPECT_TRUE(reserve({{&limit, "a", 600}}).admitted);
  EXPECT_FALSE(reserve({{&limit, "a", 1}}).admitted);
}

TEST_F(LocalStoreTest, SeveralLimitsAreChargedTogetherOrNotAtAll) {
  auto per_app = rate_limit("per-app", 1000);
  auto per_deployment = rate_limit("per-deployment", 1500);
  EXPECT_TRUE(reserve({{&per_app, "app1", 800}, {&per_deployment, "gpt-4o", 800}}).admitted);
  // app2 fits its own limit but the deployment's is short: refused, naming the deployment limit,
  // and app2's counter is not charged.
  auto refused = reserve({{&per_app, "app2", 800}, {&per_deployment, "gpt-4o", 800}});
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.refused, 1u);
  EXPECT_EQ(refused.refusal, Refusal::kRate);
  auto app2 = reserve({{&per_app, "app2", 1000}});
  EXPECT_TRUE(app2.admitted);
  EXPECT_EQ(app2.standing[0].window_used, 1000);
  // And the other way round: the per-app limit refuses and the deployment is not charged.
  auto refused_app = reserve({{&per_app, "app1", 300}, {&per_deployment, "gpt-4o", 300}});
  EXPECT_FALSE(refused_app.admitted);
  EXPECT_EQ(refused_app.refused, 0u);
  EXPECT_TRUE(reserve({{&per_deployment, "gpt-4o", 700}}).admitted);
}

TEST_F(LocalStoreTest, RetryAfterIsTheLongestWaitOfTheRefusingLimits) {
  auto a = rate_limit("a", 100);
  auto b = rate_limit("b", 100);
  EXPECT_TRUE(reserve({{&b, "x", 100}}).admitted);
  clock.advance(20s);
  EXPECT_TRUE(reserve({{&a, "x", 100}}).admitted);
  auto refused = reserve({{&a, "x", 10}, {&b, "x", 10}});
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.refused, 0u);             // a frees last (at 81 s)
  EXPECT_EQ(refused.retry_after_ms, 61'000);  // 81 s - 20 s
}

TEST_F(LocalStoreTest, AQuotaRefusalWinsOverARateRefusal) {
  auto rate = rate_limit("rate", 100);
  auto quota = quota_limit("quota", 150, QuotaPeriod::kDaily);
  EXPECT_TRUE(reserve({{&rate, "x", 100}, {&quota, "x", 100}}).admitted);
  auto refused = reserve({{&rate, "x", 60}, {&quota, "x", 60}});
  EXPECT_FALSE(refused.admitted);
  EXPECT_EQ(refused.refusal, Refusal::kQuota);
  EXPECT_EQ(refused.refused, 1u);
  EXPECT_EQ(refused.standing[1].quota_used, 100);
  EXPECT_EQ(format_utc(refused.standing[1].period.end), "2024-01-02T00:00:00Z");
}

TEST_F(LocalStoreTest, QuotasRefuseUntilTheNextPeriodAcrossMonthAndYearBoundaries) {
  auto monthly = quota_limit("monthly", 1000, QuotaPeriod::kMonthly);
  auto yearly = quota_limit("yearly", 5000, QuotaPeriod::kYearly);
  clock.set_system_time(std::chrono::sys_days(std::chrono::year(2024) / 1 / 31) + 23h + 59min);
  EXPECT_TRUE(reserve({{&monthly, "x", 1000}}).admitted);
  EXPECT_FALSE(reserve({{&monthly, "x", 1}}).admitted);
  clock.advance(59s);  // 23:59:59 on January 31st: still January
  EXPECT_EQ(reserve({{&monthly, "x", 1}}).refusal, Refusal::kQuota);
  clock.advance(1s);  // February 1st
  auto february = reserve({{&monthly, "x", 400}});
  EXPECT_TRUE(february.admitted);
  EXPECT_EQ(february.standing[0].quota_used, 400);
  EXPECT_EQ(format_utc(february.standing[0].period.end), "2024-03-01T00:00:00Z");

  clock.set_system_time(std::chrono::sys_days(std::chrono::year(2024) / 12 / 31) + 23h);
  EXPECT_TRUE(reserve({{&yearly, "x", 5000}}).admitted);
  EXPECT_EQ(reserve({{&yearly, "x", 1}}).refusal, Refusal::kQuota);
  clock.advance(1h);
  EXPECT_TRUE(reserve({{&yearly, "x", 5000}}).admitted);
}

TEST_F(LocalStoreTest, SettlingReplacesTheReservationByTheRealUsage) {
  auto limit = rate_limit("rate", 1000);
  auto quota = quota_limit("quota", 10'000, QuotaPeriod::kDaily);
  auto first = reserve({{&limit, "x", 800}, {&quota, "x", 800}});
  ASSERT_TRUE(first.admitted);
  clock.advance(2s);
  // The request used 300 tokens: 500 come back to both counters.
  Settlement release_rate{&limit, "x", first.bucket, first.standing[1].period.start, -500};
  Settlement release_quota{&quota, "x", first.bucket, first.standing[1].period.start, -500};
  store.settle(std::vector{release_rate, release_quota}, now());
  auto second = reserve({{&limit, "x", 700}, {&quota, "x", 0}});
  ASSERT_TRUE(second.admitted);
  EXPECT_EQ(second.standing[0].window_used, 1000);
  EXPECT_EQ(second.standing[1].quota_used, 300);
  // A request that used more than it reserved is charged the difference.
  Settlement overrun{&limit, "x", second.bucket, 0, 200};
  store.settle(std::vector{overrun}, now());
  auto check = reserve({{&limit, "x", 1}});
  EXPECT_FALSE(check.admitted);
  EXPECT_EQ(check.standing[0].window_used, 1200);
}

TEST_F(LocalStoreTest, ASettlementInTheNextQuotaPeriodChargesOnlyTheOverrun) {
  auto quota = quota_limit("daily", 1000, QuotaPeriod::kDaily);
  clock.set_system_time(std::chrono::sys_days(std::chrono::year(2024) / 3 / 1) + 23h + 59min + 50s);
  auto first = reserve({{&quota, "x", 600}});
  ASSERT_TRUE(first.admitted);
  clock.advance(20s);  // a long stream ends after midnight
  store.settle(
      std::vector{Settlement{&quota, "x", first.bucket, first.standing[0].period.start, -100}},
      now());
  store.settle(
      std::vector{Settlement{&quota, "x", first.bucket, first.standing[0].period.start, 50}},
      now());
  auto next_day = reserve({{&quota, "x", 0}});
  EXPECT_EQ(next_day.standing[0].quota_used, 50);
}

TEST_F(LocalStoreTest, IdleCountersAreSwept) {
  auto limit = rate_limit("per-ip", 1000);
  for (int i = 0; i < 5000; ++i) reserve({{&limit, "10.0.0." + std::to_string(i), 1}});
  EXPECT_GT(store.counters(), 4000u);
  clock.advance(2min);
  // Each shard sweeps itself every few thousand operations on it.
  for (int i = 0; i < 400'000; ++i) reserve({{&limit, "fresh-" + std::to_string(i % 1000), 0}});
  EXPECT_LE(store.counters(), 1000u);
}

// N threads hammer one limit while time moves on. Every request's real usage differs from its
// estimate by up to +10% (settled right after admission). For every 61 consecutive one-second
// buckets (any 60-second interval lies in such a span), the real tokens of the requests admitted
// in them must stay within the limit plus the overruns of the requests still unsettled when a
// later one was admitted: at most one per thread.
TEST_F(LocalStoreTest, ConcurrentClientsNeverExceedTheLimitBeyondTheEstimateError) {
  const std::int64_t limit_tokens = 20'000;
  const int threads = 8;
  const std::int64_t max_estimate = 500;
  auto limit = rate_limit("shared", limit_tokens);
  std::atomic<bool> stop{false};
  std::mutex log_mutex;
  std::map<std::int64_t, std::int64_t> used_by_bucket;
  std::atomic<std::int64_t> admitted{0};
  std::atomic<std::int64_t> refused{0};
  std::atomic<std::int64_t> attempts{0};

  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937 random(static_cast<unsigned>(t + 1));
      std::uniform_int_distribution<std::int64_t> estimate(50, max_estimate);
      std::uniform_int_distribution<int> error_percent(-50, 10);
      std::vector<Charge> charges(1);
      while (!stop.load()) {
        charges[0] = Charge{&limit, "one-counter", estimate(random)};
        auto result = store.reserve(charges, now());
        attempts.fetch_add(1);
        if (!result.admitted) {
          refused.fetch_add(1);
          continue;
        }
        admitted.fetch_add(1);
        std::int64_t real = charges[0].tokens * (100 + error_percent(random)) / 100;
        store.settle(std::vector{Settlement{&limit, "one-counter", result.bucket, 0,
                                            real - charges[0].tokens}},
                     now());
        std::lock_guard lock(log_mutex);
        used_by_bucket[result.bucket] += real;
      }
    });
  }
  // Five simulated minutes in 100 ms steps. Time moves on only after the workers made at least one
  // attempt each (on average) since the last step, so every simulated minute sees thousands of
  // attempts against room for fewer than a hundred, however the threads are scheduled.
  for (int step = 0; step < 3000; ++step) {
    clock.advance(100ms);
    const auto target = attempts.load() + threads;
    while (attempts.load() < target) std::this_thread::yield();
  }
  stop.store(true);
  for (auto& worker : workers) worker.join();

  ASSERT_GT(admitted.load(), 100);
  ASSERT_GT(refused.load(), 0) << "the test must push against the limit";
  const std::int64_t bound = limit_tokens + threads * max_estimate / 10;
  std::int64_t first = used_by_bucket.begin()->first;
  std::int64_t last = used_by_bucket.rbegin()->first;
  std::int64_t busiest = 0;
  for (std::int64_t start = first; start <= last; ++start) {
    std::int64_t sum = 0;
    for (std::int64_t b = start; b <= start + kWindowBuckets; ++b) {
      if (auto it = used_by_bucket.find(b); it != used_by_bucket.end()) sum += it->second;
    }
    busiest = std::max(busiest, sum);
    ASSERT_LE(sum, bound) << "61 buckets from " << start - first;
  }
  EXPECT_GT(busiest, limit_tokens * 8 / 10) << "the limit should be nearly used";
}

}  // namespace
}  // namespace sluice::gateway::token_limit

namespace sluice::gateway::token_limit {
namespace {

TEST_F(LocalStoreTest, UsageListsEveryCounterWithItsWindowAndQuota) {
  auto tpm = rate_limit("tpm", 1000);
  auto daily = quota_limit("daily", 5000, QuotaPeriod::kDaily);
  EXPECT_TRUE(reserve({{&tpm, "app-a", 300}, {&daily, "app-a", 300}}).admitted);
  EXPECT_TRUE(reserve({{&tpm, "app-b", 50}}).admitted);
  auto uses = store.usage(now(), 100);
  std::map<std::string, LocalStore::CounterUse> by_name;
  for (const auto& use : uses) by_name[use.limit + "/" + use.counter] = use;
  ASSERT_EQ(by_name.size(), 3u);
  EXPECT_EQ(by_name["tpm/app-a"].window_used, 300);
  EXPECT_EQ(by_name["tpm/app-b"].window_used, 50);
  EXPECT_EQ(by_name["daily/app-a"].quota_used, 300);
  EXPECT_EQ(store.usage(now(), 2).size(), 2u);  // bounded
  clock.advance(std::chrono::minutes(2));
  for (const auto& use : store.usage(now(), 100)) {
    if (use.limit == "tpm") EXPECT_EQ(use.window_used, 0) << use.counter;  // the minute moved on
  }
}

}  // namespace
}  // namespace sluice::gateway::token_limit
