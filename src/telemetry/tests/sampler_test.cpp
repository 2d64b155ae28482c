#include "sluice/telemetry/sampler.hpp"

#include <gtest/gtest.h>

namespace sluice::telemetry {
namespace {

TEST(RatioSampler, OneKeepsEveryTraceAndZeroNone) {
  RatioSampler all(1.0);
  RatioSampler none(0.0);
  for (int i = 0; i < 1000; ++i) {
    auto id = random_trace_id();
    EXPECT_TRUE(all.sample(id));
    EXPECT_FALSE(none.sample(id));
  }
}

TEST(RatioSampler, KeepsAboutTheRatio) {
  RatioSampler quarter(0.25);
  int kept = 0;
  for (int i = 0; i < 20000; ++i) kept += quarter.sample(random_trace_id()) ? 1 : 0;
  // 5000 expected; the bound is more than 10 standard deviations wide.
  EXPECT_GT(kept, 4400);
  EXPECT_LT(kept, 5600);
}

TEST(RatioSampler, DecidesByTheTraceIdSoEveryHopAgrees) {
  RatioSampler half(0.5);
  auto id = random_trace_id();
  for (int i = 0; i < 10; ++i) EXPECT_EQ(half.sample(id), half.sample(id));
}

TEST(RatioSampler, FollowsTheCallersDecision) {
  RatioSampler none(0.0);
  RatioSampler all(1.0);
  TraceContext sampled{random_trace_id(), random_span_id(), true};
  TraceContext unsampled{random_trace_id(), random_span_id(), false};
  EXPECT_TRUE(none.decide(sampled, sampled.trace_id));
  EXPECT_FALSE(all.decide(unsampled, unsampled.trace_id));
  EXPECT_TRUE(all.decide(std::nullopt, random_trace_id()));
}

TEST(RatioSampler, ClampsOutOfRangeRatios) {
  EXPECT_EQ(RatioSampler(7).ratio(), 1.0);
  EXPECT_EQ(RatioSampler(-1).ratio(), 0.0);
}

}  // namespace
}  // namespace sluice::telemetry
