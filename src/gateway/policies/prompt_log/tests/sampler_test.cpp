#include "gateway/policies/prompt_log/sampler.hpp"

#include <gtest/gtest.h>

#include <string>

namespace sluice::gateway {
namespace {

std::string id(int i) {
  return "req-" + std::to_string(i * 7919);
}

TEST(Sampler, NoneAndAll) {
  Sampler none(0.0), all(1.0);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_FALSE(none(id(i)));
    EXPECT_TRUE(all(id(i)));
  }
}

TEST(Sampler, SameIdSameDecisionAcrossInstances) {
  Sampler a(0.3), b(0.3);
  int kept = 0;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(a(id(i)), b(id(i)));
    EXPECT_EQ(a(id(i)), a(id(i)));
    kept += a(id(i));
  }
  EXPECT_GT(kept, 0);
  EXPECT_LT(kept, 1000);
}

TEST(Sampler, KeepsTheRequestedShare) {
  for (double rate : {0.01, 0.25, 0.5, 0.9}) {
    Sampler sampler(rate);
    int kept = 0;
    constexpr int kIds = 20000;
    for (int i = 0; i < kIds; ++i) kept += sampler("r" + std::to_string(i));
    EXPECT_NEAR(kept / double(kIds), rate, 0.015) << "rate " << rate;
  }
}

TEST(Sampler, LowerRateKeepsASubset) {
  // Raising the rate only adds requests, so lowering it in a reload never starts logging new ones.
  Sampler low(0.1), high(0.5);
  for (int i = 0; i < 5000; ++i) {
    if (low(id(i))) {
      EXPECT_TRUE(high(id(i))) << id(i);
    }
  }
}

}  // namespace
}  // namespace sluice::gateway
