#include "gateway/policies/token_limit/sliding_window.hpp"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace sluice::gateway::token_limit {
namespace {

constexpr std::int64_t kStart = 1'704'067'200'000;  // 2024-01-01T00:00:00Z in ms

TEST(SlidingWindow, BucketsCountForSixtyToSixtyOneSeconds) {
  SlidingWindow window;
  std::int64_t t = kStart + 300;  // 0.3 s into a bucket
  window.add(bucket_of(t), 100, t);
  EXPECT_EQ(window.used(t), 100);
  EXPECT_EQ(window.used(t + 59'999), 100);
  EXPECT_EQ(window.used(kStart + 60'999), 100);  // still overlaps the last 60 s
  EXPECT_EQ(window.used(kStart + 61'000), 0);    // the bucket's end is now 60 s ago
  EXPECT_TRUE(window.empty(kStart + 61'000));
}

TEST(SlidingWindow, AnEdgeBurstCannotDoubleTheLimit) {
  // A fixed one-minute window lets `limit` through just before the minute and `limit` again just
  // after it. Here the second burst waits until the first has been counted for a full minute.
  const std::int64_t limit = 1000;
  SlidingWindow window;
  std::int64_t t = kStart + 59'900;
  ASSERT_EQ(window.wait_ms(t, limit, limit), 0);
  window.add(bucket_of(t), limit, t);
  std::int64_t after_edge = kStart + 60'100;
  EXPECT_GT(window.wait_ms(after_edge, 1, limit), 0);
  // It fits exactly when bucket 59 leaves the window: at 59 + 61 = 120 s.
  EXPECT_EQ(window.wait_ms(after_edge, 1, limit), kStart + 120'000 - after_edge);
  EXPECT_GT(window.wait_ms(kStart + 119'999, 1, limit), 0);
  EXPECT_EQ(window.wait_ms(kStart + 120'000, 1, limit), 0);
}

TEST(SlidingWindow, NoSixtySecondIntervalEverExceedsTheLimit) {
  // A greedy client takes whatever fits every 50 ms for ten minutes with random request sizes.
  const std::int64_t limit = 5000;
  SlidingWindow window;
  std::mt19937 random(7);
  std::uniform_int_distribution<std::int64_t> size(1, 900);
  std::vector<std::pair<std::int64_t, std::int64_t>> admitted;  // (time ms, tokens)
  for (std::int64_t t = kStart; t < kStart + 600'000; t += 50) {
    for (;;) {
      std::int64_t tokens = size(random);
      if (window.wait_ms(t, tokens, limit) != 0) break;
      window.add(bucket_of(t), tokens, t);
      admitted.emplace_back(t, tokens);
    }
  }
  std::int64_t total = 0;
  for (auto& [t, tokens] : admitted) total += tokens;
  EXPECT_GT(total, limit * 9);  // the limit is used, not just enforced (~10 windows' worth)
  // Every interval [s, s + 60 s) with s at any admission time.
  for (std::size_t i = 0, j = 0; i < admitted.size(); ++i) {
    std::int64_t sum = 0;
    for (j = i; j < admitted.size() && admitted[j].first < admitted[i].first + 60'000; ++j) {
      sum += admitted[j].second;
    }
    ASSERT_LE(sum, limit) << "interval starting at +" << admitted[i].first - kStart << " ms";
  }
}

TEST(SlidingWindow, WaitIsUntilEnoughOldBucketsLeave) {
  SlidingWindow window;
  window.add(bucket_of(kStart), 300, kStart);                    // bucket 0
  window.add(bucket_of(kStart + 10'000), 300, kStart + 10'000);  // bucket 10
  window.add(bucket_of(kStart + 20'000), 300, kStart + 20'000);  // bucket 20
  std::int64_t now = kStart + 30'000;
  EXPECT_EQ(window.wait_ms(now, 100, 1000), 0);
  EXPECT_EQ(window.wait_ms(now, 200, 1000), 61'000 - 30'000);  // bucket 0 must go
  EXPECT_EQ(window.wait_ms(now, 500, 1000), 71'000 - 30'000);  // buckets 0 and 10
  EXPECT_EQ(window.wait_ms(now, 1000, 1000), 81'000 - 30'000);
  EXPECT_EQ(window.wait_ms(now, 1001, 1000), -1);  // never
}

TEST(SlidingWindow, RefundsAndOverrunsGoToTheRightBucket) {
  SlidingWindow window;
  std::int64_t admitted = bucket_of(kStart);
  window.add(admitted, 500, kStart);
  window.add(admitted, -200, kStart + 5'000);  // released: the admission bucket shrinks
  EXPECT_EQ(window.used(kStart + 5'000), 300);
  window.add(admitted, -1000, kStart + 5'000);  // never below zero
  EXPECT_EQ(window.used(kStart + 5'000), 0);
  window.add(admitted, 400, kStart + 5'000);  // overrun while the bucket is live: same bucket
  EXPECT_EQ(window.used(kStart + 60'500), 400);
  EXPECT_EQ(window.used(kStart + 61'000), 0);

  // A request that outlived the window: no refund, and an overrun is charged now.
  window.add(admitted, -100, kStart + 90'000);
  EXPECT_EQ(window.used(kStart + 90'000), 0);
  window.add(admitted, 250, kStart + 90'000);
  EXPECT_EQ(window.used(kStart + 90'000), 250);
  EXPECT_EQ(window.used(kStart + 150'999), 250);
  EXPECT_EQ(window.used(kStart + 151'000), 0);
}

TEST(SlidingWindow, SlotsAreReusedWithoutLeakingOldTokens) {
  SlidingWindow window;
  // One token a second for ten minutes: the window always holds exactly the last 61 buckets.
  for (std::int64_t s = 0; s < 600; ++s) {
    std::int64_t t = kStart + s * 1000;
    window.add(bucket_of(t), 1, t);
    ASSERT_EQ(window.used(t), std::min<std::int64_t>(s + 1, 61)) << s;
  }
}

}  // namespace
}  // namespace sluice::gateway::token_limit
