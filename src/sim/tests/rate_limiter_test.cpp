#include "sim/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace sluice::sim {
namespace {

TEST(TokenRateLimiter, RequestsPer10SecondsAreTpmOver1000) {
  EXPECT_EQ(TokenRateLimiter(30'000).requests_per_10s(), 30);
  EXPECT_EQ(TokenRateLimiter(1'000).requests_per_10s(), 1);
  EXPECT_EQ(TokenRateLimiter(1'500).requests_per_10s(), 2);
  EXPECT_EQ(TokenRateLimiter(100).requests_per_10s(), 1);
}

TEST(TokenRateLimiter, ChargesAtArrivalAndRefusesOverBudget) {
  TokenRateLimiter l(1'000'000);
  const MillisTime t0 = 1'000'000;
  auto d = l.admit(400'000, t0);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining_tokens, 600'000);
  EXPECT_EQ(d.remaining_requests, 999);
  d = l.admit(500'000, t0 + 10'000);
  ASSERT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining_tokens, 100'000);
  d = l.admit(200'000, t0 + 20'500);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, LimitReason::kTokens);
  // The first charge (second 1000) leaves the window at 1060 s: 39.5 s after t0 + 20.5 s.
  EXPECT_EQ(d.retry_after_ms, 39'500);
  EXPECT_EQ(retry_after_seconds(d.retry_after_ms), 40);
  EXPECT_EQ(d.remaining_tokens, 100'000);
  // Nothing was charged for the refused request.
  EXPECT_TRUE(l.admit(100'000, t0 + 20'600).allowed);
  // After the window slides past the first charge, there is room again.
  EXPECT_FALSE(l.admit(1, t0 + 59'999).allowed);
  EXPECT_TRUE(l.admit(400'000, t0 + 60'000).allowed);
}

TEST(TokenRateLimiter, RequestWindowIsTenSeconds) {
  TokenRateLimiter l(2'000);  // 2 requests per 10 s
  const MillisTime t0 = 50'000;
  EXPECT_TRUE(l.admit(1, t0).allowed);
  EXPECT_TRUE(l.admit(1, t0 + 3'000).allowed);
  auto d = l.admit(1, t0 + 4'000);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, LimitReason::kRequests);
  EXPECT_EQ(d.retry_after_ms, 6'000);
  EXPECT_EQ(d.remaining_requests, 0);
  EXPECT_TRUE(l.admit(1, t0 + 10'000).allowed);
}

TEST(TokenRateLimiter, CostAboveBudgetIsCappedSoItCanPassOnAnEmptyWindow) {
  TokenRateLimiter l(1'000);
  auto d = l.admit(5'000, 0);
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining_tokens, 0);
  EXPECT_FALSE(l.admit(1, 30'000).allowed);
}

TEST(TokenRateLimiter, ResetForgetsUsage) {
  TokenRateLimiter l(1'000);
  EXPECT_TRUE(l.admit(1'000, 0).allowed);
  EXPECT_FALSE(l.admit(1, 100).allowed);
  l.reset();
  EXPECT_TRUE(l.admit(1, 200).allowed);
}

TEST(RetryAfter, RoundsUpAndNeverZero) {
  EXPECT_EQ(retry_after_seconds(0), 1);
  EXPECT_EQ(retry_after_seconds(1), 1);
  EXPECT_EQ(retry_after_seconds(1000), 1);
  EXPECT_EQ(retry_after_seconds(1001), 2);
  EXPECT_EQ(retry_after_seconds(59'400), 60);
}

TEST(UtilizationLimiter, AdmitsBelowFullThenDrains) {
  UtilizationLimiter l(60'000);  // drains 1 token per ms
  auto d = l.admit(30'000, 0);
  EXPECT_TRUE(d.allowed);
  EXPECT_DOUBLE_EQ(d.utilization_percent, 50.0);
  d = l.admit(40'000, 0);  // admitted below 100%, overshoots to 116.7%
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(d.utilization_percent, 116.67, 0.01);
  d = l.admit(1, 0);
  ASSERT_FALSE(d.allowed);
  EXPECT_EQ(d.reason, LimitReason::kUtilization);
  EXPECT_EQ(d.retry_after_ms, 10'001);
  EXPECT_FALSE(l.admit(1, 10'000).allowed);
  d = l.admit(1, 10'001);
  EXPECT_TRUE(d.allowed);
  EXPECT_NEAR(l.peek(70'001).utilization_percent, 0.0, 1e-9);
}

}  // namespace
}  // namespace sluice::sim
