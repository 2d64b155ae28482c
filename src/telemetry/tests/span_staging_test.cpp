#include "sluice/telemetry/span_staging.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "sluice/telemetry/trace_ids.hpp"
#include "telemetry/tests/protobuf_reader.hpp"

namespace sluice::telemetry {
namespace {

using namespace std::chrono_literals;

// Writes `spans` spans named `name` through `writer`.
void write_spans(SpanWriter& writer, const std::string& name, int spans = 1) {
  for (int i = 0; i < spans; ++i) {
    SpanStart start;
    start.trace_id = random_trace_id();
    start.span_id = random_span_id();
    start.name = name;
    start.kind = SpanKind::kServer;
    writer.begin_span(start);
    writer.attribute("sluice.request_id", name);
    writer.end_span();
  }
}

// One request's spans, staged and committed from the calling thread.
void stage(SpanStaging& staging, const std::string& name, int spans = 1) {
  auto write = staging.begin();
  write_spans(write.encoder(), name, spans);
  write.commit();
}

// The names of the spans in `blocks`, in order. A block is a run of ScopeSpans' `spans` fields
// (field 2), each a Span whose name is field 5.
std::vector<std::string> names_in(const std::vector<EncodedSpans>& blocks) {
  std::vector<std::string> names;
  for (const auto& block : blocks) {
    auto spans = testing::sub_messages(testing::parse_proto(block.bytes), 2);
    EXPECT_EQ(spans.size(), block.count);
    for (const auto& span : spans) names.push_back(span.find(5)->second.bytes);
  }
  return names;
}

TEST(SpanStaging, SpansWaitInTheThreadsBlockUntilCollectedButCountAtOnce) {
  SpanQueue queue(100);
  SpanStaging staging(queue, 50);
  stage(staging, "a", 2);
  stage(staging, "b");
  EXPECT_EQ(queue.pushed(), 3u);  // counted when written
  EXPECT_EQ(queue.size(), 3u);    // and held against the bound
  EXPECT_TRUE(queue.take(100, 0ms).empty());
  staging.collect();
  auto blocks = queue.take(100, 0ms);
  ASSERT_EQ(blocks.size(), 1u);  // one block for the thread, not one entry per request
  EXPECT_EQ(names_in(blocks), (std::vector<std::string>{"a", "a", "b"}));
  EXPECT_EQ(queue.size(), 0u);
}

TEST(SpanStaging, AFullBlockGoesToTheQueueByItself) {
  SpanQueue queue(100);
  SpanStaging staging(queue, 4);
  for (int i = 0; i < 3; ++i) stage(staging, "r" + std::to_string(i), 2);
  // The second request made four spans: that block went; the third's two are still staged.
  auto blocks = queue.take(100, 0ms);
  ASSERT_EQ(blocks.size(), 1u);
  EXPECT_EQ(names_in(blocks), (std::vector<std::string>{"r0", "r0", "r1", "r1"}));
  staging.collect();
  EXPECT_EQ(names_in(queue.take(100, 0ms)), (std::vector<std::string>{"r2", "r2"}));

  // By size too: long spans fill a block's bytes before its span count.
  SpanStaging by_size(queue, 100'000);
  const std::string long_name(1000, 'x');  // a span of ~2 KiB: name and request id
  int staged = 0;
  std::vector<EncodedSpans> full;
  while (full.empty() && staged < 100) {
    stage(by_size, long_name);
    ++staged;
    full = queue.take(100, 0ms);
  }
  ASSERT_EQ(full.size(), 1u);
  EXPECT_GE(full[0].bytes.size(), SpanStaging::kHandOverBytes);
  EXPECT_LT(full[0].bytes.size(), SpanStaging::kHandOverBytes + 2100);
  EXPECT_EQ(full[0].count, static_cast<std::size_t>(staged));
  by_size.collect();
  EXPECT_TRUE(queue.take(100, 0ms).empty());  // the block after it is empty
}

TEST(SpanStaging, ARecycledBlockCarriesOnlyTheSpansWrittenIntoItAgain) {
  SpanQueue queue(1000);
  SpanStaging staging(queue, 4);
  const std::string long_name(200, 'o');  // the first block's bytes, left in the recycled string
  stage(staging, long_name, 4);           // a full block: handed over
  auto sent = queue.take(100, 0ms);
  ASSERT_EQ(sent.size(), 1u);
  const char* block_bytes = sent[0].bytes.data();
  queue.recycle(std::move(sent));

  stage(staging, "n0", 4);  // fills the block taken at the first hand-over: goes to the queue,
                            // and the recycled one comes back for the next
  stage(staging, "n1", 2);
  staging.collect();
  auto blocks = queue.take(100, 0ms);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[1].bytes.data(), block_bytes);  // the same room, not a new allocation
  EXPECT_EQ(names_in(blocks), (std::vector<std::string>{"n0", "n0", "n0", "n0", "n1", "n1"}));
}

TEST(SpanStaging, ARequestTheQueueHasNoRoomForIsDroppedWholeAndCounted) {
  SpanQueue queue(3);
  SpanStaging staging(queue, 50);
  stage(staging, "kept", 2);
  stage(staging, "dropped", 2);  // 4 > 3: both of its spans go, none of the first request's
  stage(staging, "fits");
  EXPECT_EQ(queue.pushed(), 3u);
  EXPECT_EQ(queue.dropped(), 2u);
  staging.collect();
  EXPECT_EQ(names_in(queue.take(100, 0ms)), (std::vector<std::string>{"kept", "kept", "fits"}));
}

TEST(SpanStaging, WhatIsNotCommittedIsRolledBack) {
  SpanQueue queue(100);
  SpanStaging staging(queue, 50);
  stage(staging, "before");
  {
    auto write = staging.begin();
    write_spans(write.encoder(), "abandoned", 3);
  }  // no commit: an exception left the request path, say
  stage(staging, "after");
  EXPECT_EQ(queue.pushed(), 2u);
  staging.collect();
  EXPECT_EQ(names_in(queue.take(100, 0ms)), (std::vector<std::string>{"before", "after"}));
}

TEST(SpanStaging, AfterCloseSpansAreDroppedAndCountedOnOldAndNewThreads) {
  SpanQueue queue(100);
  SpanStaging staging(queue, 50);
  stage(staging, "staged");
  staging.collect(/*close=*/true);
  stage(staging, "late", 2);
  std::thread([&] { stage(staging, "new thread"); }).join();
  EXPECT_EQ(queue.pushed(), 1u);
  EXPECT_EQ(queue.dropped(), 3u);
  EXPECT_EQ(names_in(queue.take(100, 0ms)), (std::vector<std::string>{"staged"}));
}

TEST(SpanStaging, EverySpanOfManyThreadsArrivesOnceWhileTheExporterCollects) {
  SpanQueue queue(1'000'000);
  SpanStaging staging(queue, 16);
  constexpr int kThreads = 4;
  constexpr int kRequests = 2'000;
  std::atomic<bool> done{false};
  std::vector<EncodedSpans> taken;
  std::thread exporter([&] {
    while (!done.load()) {
      staging.collect();
      auto blocks = queue.take(64, 1ms);
      for (auto& block : blocks) taken.push_back(std::move(block));
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kRequests; ++i)
        stage(staging, std::to_string(t) + "/" + std::to_string(i), 2);
    });
  }
  for (auto& thread : threads) thread.join();
  done = true;
  exporter.join();
  staging.collect();
  for (auto& block : queue.take(1'000'000, 0ms)) taken.push_back(std::move(block));

  std::map<std::string, int> seen;
  for (const auto& name : names_in(taken)) ++seen[name];
  ASSERT_EQ(seen.size(), static_cast<std::size_t>(kThreads * kRequests));
  for (const auto& [name, n] : seen) ASSERT_EQ(n, 2) << name;
  // Per thread, in the order written.
  std::vector<int> next(kThreads, 0);
  for (const auto& name : names_in(taken)) {
    const int t = std::stoi(name);
    const int i = std::stoi(name.substr(name.find('/') + 1));
    ASSERT_TRUE(i == next[t] || i == next[t] - 1) << name;
    next[t] = i + 1;
  }
  EXPECT_EQ(queue.pushed(), static_cast<std::uint64_t>(2 * kThreads * kRequests));
  EXPECT_EQ(queue.dropped(), 0u);
  EXPECT_EQ(queue.size(), 0u);
}

}  // namespace
}  // namespace sluice::telemetry
