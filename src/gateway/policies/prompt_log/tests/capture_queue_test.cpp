#include "gateway/policies/prompt_log/capture_queue.hpp"

#include <gtest/gtest.h>

#include <thread>

namespace sluice::gateway {
namespace {

using namespace std::chrono_literals;

PromptLogCapture capture(std::string id, std::size_t prompt_bytes = 10) {
  PromptLogCapture c;
  c.entry.request_id = std::move(id);
  c.entry.prompt.assign(prompt_bytes, 'p');
  return c;
}

TEST(CaptureQueue, DropsAndCountsBeyondTheEntryBound) {
  CaptureQueue queue(10, 1 << 20);
  int accepted = 0;
  for (int i = 0; i < 100; ++i) accepted += queue.push(capture(std::to_string(i)));
  EXPECT_EQ(accepted, 10);
  EXPECT_EQ(queue.pushed(), 10u);
  EXPECT_EQ(queue.dropped(), 90u);
  auto batch = queue.take(0ms);
  ASSERT_EQ(batch.size(), 10u);
  EXPECT_EQ(batch.front().entry.request_id, "0");  // the oldest are kept, the newest dropped
  EXPECT_EQ(queue.size(), 0u);
  EXPECT_TRUE(queue.push(capture("again")));  // room again once the consumer took its batch
}

TEST(CaptureQueue, DropsBeyondTheByteBound) {
  CaptureQueue queue(1000, 10'000);
  EXPECT_TRUE(queue.push(capture("a", 4000)));
  EXPECT_TRUE(queue.push(capture("b", 4000)));
  EXPECT_FALSE(queue.has_room(4000 + 256));
  EXPECT_FALSE(queue.push(capture("c", 4000)));
  EXPECT_TRUE(queue.push(capture("d", 100)));
  EXPECT_EQ(queue.dropped(), 1u);
}

TEST(CaptureQueue, PushNeverWaitsForASlowConsumer) {
  // Nobody takes anything: a push that waited for room would never return (ctest's timeout would
  // end the test); each one must refuse at once instead.
  CaptureQueue queue(100, 1 << 20);
  int refused = 0;
  for (int i = 0; i < 100'000; ++i) refused += !queue.push(capture(std::to_string(i)));
  EXPECT_EQ(refused, 100'000 - 100);
  EXPECT_EQ(queue.dropped(), 100'000u - 100u);
}

// take()'s timeout is longer than ctest's, so a take() that were not woken would fail the test by
// timing out rather than by a wall-clock comparison. The producer's short sleep only makes it
// likely that take() is already waiting; the test holds either way.
constexpr std::chrono::milliseconds kLongerThanTheTest = std::chrono::hours(1);

TEST(CaptureQueue, TakeWakesOnFirstEntryAndOnClose) {
  CaptureQueue queue(10, 1 << 20);
  std::thread producer([&] {
    std::this_thread::sleep_for(20ms);
    queue.push(capture("x"));
  });
  auto batch = queue.take(kLongerThanTheTest);
  EXPECT_EQ(batch.size(), 1u);
  producer.join();

  std::thread closer([&] {
    std::this_thread::sleep_for(20ms);
    queue.close();
  });
  EXPECT_TRUE(queue.take(kLongerThanTheTest).empty());
  closer.join();
  EXPECT_FALSE(queue.push(capture("late")));
  EXPECT_EQ(queue.dropped(), 1u);
}

}  // namespace
}  // namespace sluice::gateway
