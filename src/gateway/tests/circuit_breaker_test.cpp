#include <gtest/gtest.h>

#include "gateway/circuit_breaker.hpp"

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

BreakerSettings settings(int failures) {
  BreakerSettings s;
  s.failures = failures;
  s.interval = 10s;
  s.trip_duration = 30s;
  return s;
}

TEST(CircuitBreaker, TripsAfterFailuresWithinInterval) {
  CircuitBreaker breaker(settings(3));
  auto t0 = Clock::now();
  breaker.record_failure(t0, 0ms);
  breaker.record_failure(t0 + 1s, 0ms);
  EXPECT_EQ(breaker.state(t0 + 1s), BreakerState::kClosed);
  breaker.record_failure(t0 + 2s, 0ms);
  EXPECT_EQ(breaker.state(t0 + 2s), BreakerState::kOpen);
  EXPECT_FALSE(breaker.try_acquire(t0 + 20s));
  EXPECT_EQ(breaker.trips(), 1u);
}

TEST(CircuitBreaker, FailuresInOldWindowsDoNotAddUp) {
  CircuitBreaker breaker(settings(3));
  auto t0 = Clock::now();
  breaker.record_failure(t0, 0ms);
  breaker.record_failure(t0 + 1s, 0ms);
  breaker.record_failure(t0 + 11s, 0ms);  // new window
  EXPECT_EQ(breaker.state(t0 + 11s), BreakerState::kClosed);
}

TEST(CircuitBreaker, HonoursRetryAfterThenLetsOneProbeThrough) {
  CircuitBreaker breaker(settings(1));
  auto t0 = Clock::now();
  breaker.record_failure(t0, 2000ms);  // the backend said: retry after 2 s
  EXPECT_EQ(breaker.state(t0 + 1s), BreakerState::kOpen);
  EXPECT_EQ(breaker.state(t0 + 2s), BreakerState::kHalfOpen);
  EXPECT_TRUE(breaker.try_acquire(t0 + 2s));   // the probe
  EXPECT_FALSE(breaker.try_acquire(t0 + 2s));  // nobody else while it is out
  breaker.record_success();
  EXPECT_EQ(breaker.state(t0 + 2s), BreakerState::kClosed);
  EXPECT_TRUE(breaker.try_acquire(t0 + 2s));
}

TEST(CircuitBreaker, FailedProbeOpensAgain) {
  CircuitBreaker breaker(settings(1));
  auto t0 = Clock::now();
  breaker.record_failure(t0, 0ms);
  EXPECT_TRUE(breaker.try_acquire(t0 + 30s));
  breaker.record_failure(t0 + 30s, 0ms);
  EXPECT_EQ(breaker.state(t0 + 31s), BreakerState::kOpen);
  EXPECT_EQ(breaker.trips(), 2u);
}

TEST(CircuitBreaker, IgnoresRetryAfterWhenConfiguredTo) {
  auto s = settings(1);
  s.honor_retry_after = false;
  CircuitBreaker breaker(s);
  auto t0 = Clock::now();
  breaker.record_failure(t0, 2000ms);
  EXPECT_EQ(breaker.state(t0 + 5s), BreakerState::kOpen);  // trip_duration (30 s) applies
}

}  // namespace
}  // namespace sluice::gateway
