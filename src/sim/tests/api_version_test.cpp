#include "sim/api_version.hpp"

#include <gtest/gtest.h>

namespace sluice::sim {
namespace {

TEST(ApiVersion, StreamOptionsArrivedIn20240901Preview) {
  EXPECT_FALSE(parse_api_version("2024-02-01")->accepts_stream_options());
  EXPECT_FALSE(parse_api_version("2024-06-01")->accepts_stream_options());
  EXPECT_FALSE(parse_api_version("2024-08-01-preview")->accepts_stream_options());
  EXPECT_TRUE(parse_api_version("2024-09-01-preview")->accepts_stream_options());
  EXPECT_TRUE(parse_api_version("2024-10-21")->accepts_stream_options());
  EXPECT_TRUE(parse_api_version("2025-01-01-preview")->accepts_stream_options());
}

TEST(ApiVersion, UnknownVersionsAreRefused) {
  EXPECT_FALSE(parse_api_version("2024-02-02"));
  EXPECT_FALSE(parse_api_version("2024-13-01"));
  EXPECT_FALSE(parse_api_version("latestish"));
  EXPECT_FALSE(parse_api_version(""));
  EXPECT_TRUE(parse_api_version("2026-05-01-preview"));  // newer than the list: accepted
  EXPECT_TRUE(parse_api_version("v1")->v1);
}

}  // namespace
}  // namespace sluice::sim
