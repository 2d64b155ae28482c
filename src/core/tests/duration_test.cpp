#include "sluice/core/duration.hpp"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

using namespace std::chrono_literals;

std::chrono::nanoseconds parsed(std::string_view text) {
  auto result = parse_duration(text);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.value_or(std::chrono::nanoseconds(-1));
}

std::string error_of(std::string_view text) {
  auto result = parse_duration(text);
  EXPECT_FALSE(result.ok()) << text << " parsed as " << result.value_or({}).count() << "ns";
  return result.ok() ? "" : result.error().message;
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(parsed("250ms"), 250ms);
  EXPECT_EQ(parsed("1.5s"), 1500ms);
  EXPECT_EQ(parsed("2m"), 120s);
  EXPECT_EQ(parsed("1h"), 3600s);
  EXPECT_EQ(parsed("1d"), 24h);
  EXPECT_EQ(parsed("10us"), 10us);
  EXPECT_EQ(parsed("10\u00b5s"), 10us);
  EXPECT_EQ(parsed("7ns"), 7ns);
}

TEST(ParseDuration, BareNumberIsSeconds) {
  EXPECT_EQ(parsed("30"), 30s);
  EXPECT_EQ(parsed("0.25"), 250ms);
  EXPECT_EQ(parsed("0"), 0s);
}

TEST(ParseDuration, CompoundAndSpaces) {
  EXPECT_EQ(parsed("1h30m"), 90min);
  EXPECT_EQ(parsed("1m 0.5s"), 60500ms);
  EXPECT_EQ(parsed(" 5 s "), 5s);
  EXPECT_EQ(parsed(".5s"), 500ms);
}

TEST(ParseDuration, ExactNotRounded) {
  EXPECT_EQ(parsed("0.000000001s"), 1ns);
  EXPECT_EQ(parsed("1.000000001s"), 1'000'000'001ns);
  EXPECT_NE(error_of("1.5ns").find("whole number of nanoseconds"), std::string::npos);
}

TEST(ParseDuration, Rejects) {
  EXPECT_NE(error_of("").find("empty"), std::string::npos);
  EXPECT_NE(error_of("-1s").find("negative"), std::string::npos);
  EXPECT_NE(error_of("5 parsecs").find("unknown unit 'parsecs'"), std::string::npos);
  EXPECT_NE(error_of("5S").find("unknown unit 'S'"), std::string::npos);
  EXPECT_NE(error_of("ms").find("expected a number"), std::string::npos);
  EXPECT_NE(error_of("1m30").find("missing unit"), std::string::npos);
  EXPECT_NE(error_of("1.2.3s").find("missing unit"), std::string::npos);
  EXPECT_NE(error_of("lots").find("expected a number"), std::string::npos);
  EXPECT_NE(error_of("300000d").find("too large"), std::string::npos);
  EXPECT_NE(error_of("99999999999999999999999s").find("too large"), std::string::npos);
}

TEST(FormatDuration, LargestExactUnitAndRoundTrip) {
  EXPECT_EQ(format_duration(0s), "0s");
  EXPECT_EQ(format_duration(90s), "90s");
  EXPECT_EQ(format_duration(2h), "2h");
  EXPECT_EQ(format_duration(250ms), "250ms");
  EXPECT_EQ(format_duration(1500us), "1500us");
  const std::chrono::nanoseconds samples[] = {1ns, 999ns, 1001ms,
                                              61s, 25h,   std::chrono::nanoseconds::max()};
  for (auto d : samples) {
    EXPECT_EQ(parsed(format_duration(d)), d);
  }
}

}  // namespace
}  // namespace sluice::core
