#include "sluice/telemetry/span_queue.hpp"

#include <gtest/gtest.h>

namespace sluice::telemetry {
namespace {

Span named(std::string name) {
  Span span;
  span.name = std::move(name);
  return span;
}

TEST(SpanQueue, DropsAndCountsSpansBeyondItsBound) {
  SpanQueue queue(3);
  for (int i = 0; i < 5; ++i) queue.push(named("s" + std::to_string(i)));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pushed(), 3u);
  EXPECT_EQ(queue.dropped(), 2u);
  auto taken = queue.take(10, std::chrono::milliseconds(0));
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].name, "s0");  // the oldest are kept, the newest dropped
  EXPECT_EQ(taken[2].name, "s2");
  EXPECT_TRUE(queue.push(named("after")));  // room again
}

TEST(SpanQueue, TakesAtMostABatchOldestFirst) {
  SpanQueue queue(10);
  for (int i = 0; i < 5; ++i) queue.push(named("s" + std::to_string(i)));
  auto first = queue.take(2, std::chrono::milliseconds(0));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].name, "s0");
  auto rest = queue.take(10, std::chrono::milliseconds(0));
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].name, "s2");
  EXPECT_EQ(queue.size(), 0u);
}

TEST(SpanQueue, ClosedQueueRefusesSpansButGivesUpWhatItHolds) {
  SpanQueue queue(10);
  queue.push(named("kept"));
  queue.close();
  EXPECT_FALSE(queue.push(named("late")));
  EXPECT_EQ(queue.dropped(), 1u);
  auto taken = queue.take(10, std::chrono::hours(1));  // closed: does not wait
  ASSERT_EQ(taken.size(), 1u);
  EXPECT_EQ(taken[0].name, "kept");
}

}  // namespace
}  // namespace sluice::telemetry
