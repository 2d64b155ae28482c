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

TEST(SlidingWindow, TheRunningSumAgreesWithEveryBucketCountedAgain) {
  // The window keeps its sum between seconds instead of adding up its slots on every call. A
  // model that keeps every bucket (slot reuse included) and adds them up each time checks it over
  // random reservations, refunds, overruns and late settlements at times that move forward and
  // back within a few minutes.
  SlidingWindow window;
  std::map<std::int64_t, std::int64_t> model;  // bucket -> tokens, as the slots hold them
  auto model_used = [&](std::int64_t now) {
    std::int64_t current = bucket_of(now), sum = 0;
    for (auto [bucket, tokens] : model) {
      if (bucket >= current - kWindowBuckets && bucket <= current) sum += tokens;
    }
    return sum;
  };
  auto model_add = [&](std::int64_t bucket, std::int64_t tokens, std::int64_t now) {
    std::int64_t current = bucket_of(now);
    if (bucket < current - kWindowBuckets || bucket > current) {
      if (tokens <= 0) return;
      bucket = current;
    }
    auto it = model.find(bucket);
    if (it == model.end()) {
      if (tokens <= 0) return;
      std::erase_if(model, [&](const auto& entry) { return (entry.first - bucket) % 64 == 0; });
      it = model.emplace(bucket, 0).first;
    }
    it->second = std::max<std::int64_t>(0, it->second + tokens);
  };
  std::mt19937 random(11);
  std::uniform_int_distribution<std::int64_t> step(-3'000, 9'000), tokens(-400, 600),
      age(0, 90'000), coin(0, 3);
  std::int64_t now = kStart;
  for (int i = 0; i < 20'000; ++i) {
    now = std::max(kStart, now + step(random));
    // A reservation now, or the settlement of one made up to 90 s ago.
    const std::int64_t bucket = coin(random) == 0 ? bucket_of(now - age(random)) : bucket_of(now);
    const std::int64_t amount = tokens(random);
    window.add(bucket, amount, now);
    model_add(bucket, amount, now);
    ASSERT_EQ(window.used(now), model_used(now)) << i;
    if (coin(random) == 0) {  // asked at another time, as a sweep or a test may
      const std::int64_t other = now + step(random) * 10;
      ASSERT_EQ(window.used(other), model_used(other)) << i;
    }
  }
}

}  // namespace
}  // namespace sluice::gateway::token_limit
