#include "sluice/core/edit_distance.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace sluice::core {
namespace {

TEST(EditDistance, Basics) {
  EXPECT_EQ(edit_distance("", ""), 0u);
  EXPECT_EQ(edit_distance("abc", ""), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  EXPECT_EQ(edit_distance("timeout", "timoeut"), 1u);  // adjacent swap costs one
  EXPECT_EQ(edit_distance("tokens_per_minut", "tokens_per_minute"), 1u);
}

TEST(ClosestMatch, SuggestsPlausibleTyposOnly) {
  std::vector<std::string> keys{"tokens_per_minute", "requests_per_10s", "url", "timeout"};
  EXPECT_EQ(closest_match("tokens_per_minut", keys), "tokens_per_minute");
  EXPECT_EQ(closest_match("timout", keys), "timeout");
  EXPECT_EQ(closest_match("uri", keys), "url");
  EXPECT_EQ(closest_match("region", keys), std::nullopt);
  EXPECT_EQ(closest_match("ur", std::vector<std::string>{}), std::nullopt);
}

}  // namespace
}  // namespace sluice::core
