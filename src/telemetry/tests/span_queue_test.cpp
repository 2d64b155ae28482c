#include "sluice/telemetry/span_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sluice::telemetry {
namespace {

// An entry of `count` spans whose bytes are its name (the queue never looks inside).
EncodedSpans named(std::string name, std::size_t count = 1) {
  return EncodedSpans{std::move(name), count};
}

TEST(SpanQueue, DropsAndCountsSpansBeyondItsBound) {
  SpanQueue queue(3);
  for (int i = 0; i < 5; ++i) queue.push(named("s" + std::to_string(i)));
  EXPECT_EQ(queue.size(), 3u);
  EXPECT_EQ(queue.pushed(), 3u);
  EXPECT_EQ(queue.dropped(), 2u);
  auto taken = queue.take(10, std::chrono::milliseconds(0));
  ASSERT_EQ(taken.size(), 3u);
  EXPECT_EQ(taken[0].bytes, "s0");  // the oldest are kept, the newest dropped
  EXPECT_EQ(taken[2].bytes, "s2");
  EXPECT_TRUE(queue.push(named("after")));  // room again
}

TEST(SpanQueue, TakesAtMostABatchOldestFirst) {
  SpanQueue queue(10);
  for (int i = 0; i < 5; ++i) queue.push(named("s" + std::to_string(i)));
  auto first = queue.take(2, std::chrono::milliseconds(0));
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0].bytes, "s0");
  auto rest = queue.take(10, std::chrono::milliseconds(0));
  ASSERT_EQ(rest.size(), 3u);
  EXPECT_EQ(rest[0].bytes, "s2");
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
  EXPECT_EQ(taken[0].bytes, "kept");
}

TEST(SpanQueue, CountsAndBoundsSpansNotEntries) {
  SpanQueue queue(5);
  EXPECT_TRUE(queue.push(named("a", 2)));
  EXPECT_TRUE(queue.push(named("b", 2)));
  EXPECT_FALSE(queue.push(named("c", 2)));  // 6 spans would pass the bound of 5
  EXPECT_TRUE(queue.push(named("d", 1)));
  EXPECT_EQ(queue.size(), 5u);
  EXPECT_EQ(queue.pushed(), 5u);
  EXPECT_EQ(queue.dropped(), 2u);
  auto first = queue.take(3, std::chrono::milliseconds(0));  // "a" fits, "b" would make 4
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].bytes, "a");
  EXPECT_EQ(queue.size(), 3u);
  auto one = queue.take(1, std::chrono::milliseconds(0));  // an entry above the batch still goes
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0].bytes, "b");
}

TEST(SpanQueue, KeepsABoundedNumberOfSentBlocksToHandBack) {
  SpanQueue queue(100);
  std::vector<EncodedSpans> sent;
  sent.push_back(named("one span"));  // a submitter's small entry: not kept
  EncodedSpans grown;                 // a block grown by huge attributes: not kept either
  grown.bytes.reserve(SpanQueue::kMaxSpareBytes + 1);
  grown.bytes = "grown";
  grown.count = 1;
  sent.push_back(std::move(grown));
  for (std::size_t i = 0; i < SpanQueue::kMaxSpareBlocks + 2; ++i) {
    EncodedSpans block;
    block.bytes.reserve(SpanQueue::kMinSpareBytes);
    block.bytes = "block";
    block.count = 1;
    sent.push_back(std::move(block));
  }
  queue.recycle(std::move(sent));

  std::size_t handed_back = 0;
  for (std::size_t i = 0; i < SpanQueue::kMaxSpareBlocks + 2; ++i) {
    ASSERT_TRUE(queue.reserve(1));
    std::string spare;
    queue.push_reserved(named("s"), &spare);
    if (spare.empty()) continue;
    EXPECT_GE(spare.capacity(), SpanQueue::kMinSpareBytes);
    EXPECT_LE(spare.capacity(), SpanQueue::kMaxSpareBytes);
    ++handed_back;
  }
  EXPECT_EQ(handed_back, SpanQueue::kMaxSpareBlocks);
  EXPECT_EQ(queue.take(100, std::chrono::milliseconds(0)).size(), SpanQueue::kMaxSpareBlocks + 2);
}

}  // namespace
}  // namespace sluice::telemetry
