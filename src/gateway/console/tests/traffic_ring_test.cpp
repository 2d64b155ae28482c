#include "gateway/console/traffic_ring.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::console {
namespace {

TrafficSample sample(std::int64_t minute, std::string_view app, std::string_view deployment,
                     std::int64_t tokens, int status = 200) {
  return TrafficSample{.epoch_minute = minute,
                       .app = app,
                       .deployment = deployment,
                       .status = status,
                       .prompt_tokens = tokens / 2,
                       .completion_tokens = tokens - tokens / 2,
                       .total_tokens = tokens,
                       .attempts = {}};
}

TEST(TrafficRing, CountsRequestsAndTokensPerMinutePerAppAndDeployment) {
  TrafficRing ring;
  ring.record(sample(1000, "app-a", "gpt-4o", 30));
  ring.record(sample(1000, "app-a", "gpt-4o", 10));
  ring.record(sample(1001, "app-b", "gpt-4o-mini", 7, 429));
  auto s = ring.snapshot(1001, 3);
  ASSERT_EQ(s.minutes, (std::vector<std::int64_t>{999, 1000, 1001}));
  ASSERT_EQ(s.by_app.at("app-a").size(), 3u);
  EXPECT_EQ(s.by_app.at("app-a")[0].requests, 0);
  EXPECT_EQ(s.by_app.at("app-a")[1].requests, 2);
  EXPECT_EQ(s.by_app.at("app-a")[1].total_tokens, 40);
  EXPECT_EQ(s.by_app.at("app-a")[1].prompt_tokens, 20);
  EXPECT_EQ(s.by_app.at("app-b")[2].requests, 1);
  EXPECT_EQ(s.by_app.at("app-b")[2].errors, 1);
  EXPECT_EQ(s.by_deployment.at("gpt-4o")[1].total_tokens, 40);
  EXPECT_EQ(s.by_deployment.at("gpt-4o-mini")[2].total_tokens, 7);
}

TEST(TrafficRing, AMinuteAnHourLaterReplacesTheSlotAndOlderSamplesAreDropped) {
  TrafficRing ring;
  ring.record(sample(1000, "old", "d", 5));
  ring.record(sample(1000 + TrafficRing::kMinutes, "new", "d", 9));
  ring.record(sample(1000, "late", "d", 1));  // older than the hour the ring now holds
  auto s = ring.snapshot(1000 + TrafficRing::kMinutes);
  EXPECT_EQ(s.by_app.count("old"), 0u);
  EXPECT_EQ(s.by_app.count("late"), 0u);
  ASSERT_EQ(s.by_app.count("new"), 1u);
  EXPECT_EQ(s.by_app.at("new").back().total_tokens, 9);
  // The old minute is outside the window: a snapshot ending there shows nothing for it either.
  EXPECT_TRUE(ring.snapshot(1000, 1).by_app.empty());
}

TEST(TrafficRing, CountsAttemptsThrottlesServerErrorsAndFailoversPerBackend) {
  TrafficRing ring;
  auto s1 = sample(5, "app", "d", 10);
  s1.attempts = {{"ptu", 429}, {"paygo", 200}};
  ring.record(s1);
  auto s2 = sample(5, "app", "d", 0, 502);
  s2.attempts = {{"ptu", 0}, {"paygo", 503}};
  ring.record(s2);
  auto s = ring.snapshot(5, 1);
  const auto& ptu = s.by_backend.at("ptu")[0];
  const auto& paygo = s.by_backend.at("paygo")[0];
  EXPECT_EQ(ptu.attempts, 2);
  EXPECT_EQ(ptu.throttled, 1);
  EXPECT_EQ(ptu.server_errors, 1);
  EXPECT_EQ(ptu.failovers, 2);
  EXPECT_EQ(paygo.attempts, 2);
  EXPECT_EQ(paygo.server_errors, 1);
  EXPECT_EQ(paygo.failovers, 0);  // the last attempt has nothing after it to fail over to
}

TEST(TrafficRing, DistinctNamesBeyondTheCapAreSummedUnderOther) {
  TrafficRing ring;
  std::vector<std::string> names;
  for (std::size_t i = 0; i < TrafficRing::kMaxKeysPerSlot + 10; ++i) {
    names.push_back("app-" + std::to_string(i));
  }
  for (const auto& name : names) ring.record(sample(7, name, "d", 1));
  auto s = ring.snapshot(7, 1);
  EXPECT_EQ(s.by_app.size(), TrafficRing::kMaxKeysPerSlot + 1);
  EXPECT_EQ(s.by_app.at(std::string(TrafficRing::kOtherKey))[0].requests, 10);
  EXPECT_EQ(s.by_deployment.at("d")[0].requests,
            static_cast<std::int64_t>(TrafficRing::kMaxKeysPerSlot + 10));
}

}  // namespace
}  // namespace sluice::gateway::console
