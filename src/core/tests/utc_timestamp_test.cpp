#include "sluice/core/utc_timestamp.hpp"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

// 2026-12-04T10:00:00Z
constexpr std::int64_t kTenOClockUs = 1'796'378'400'000'000;

std::int64_t micros(std::string_view text) {
  auto at = parse_utc_timestamp(text);
  EXPECT_TRUE(at) << text;
  return at ? at->time_since_epoch().count() : -1;
}

TEST(ParseUtcTimestamp, ReadsIsoUtcAndDatetimeLocalForms) {
  EXPECT_EQ(micros("2026-12-04T10:00:00Z"), kTenOClockUs);
  EXPECT_EQ(micros("2026-12-04T10:00:00"), kTenOClockUs) << "datetime-local with seconds: UTC";
  EXPECT_EQ(micros("2026-12-04T10:00"), kTenOClockUs) << "datetime-local without seconds";
  EXPECT_EQ(micros("2026-12-04T10:00Z"), kTenOClockUs);
  EXPECT_EQ(micros("2026-12-04T10:00:01.5Z"), kTenOClockUs + 1'500'000);
  EXPECT_EQ(micros("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(micros("2028-02-29T00:00"), 1'835'395'200'000'000) << "a leap day";
}

TEST(ParseUtcTimestamp, RefusesAnythingElse) {
  for (std::string_view bad :
       {"", "yesterday", "2026-12-04", "2026-12-04 10:00", "2026-12-04T10",
        "2026-12-04T10:00:00+01:00", "2026-13-01T00:00", "2026-02-30T00:00", "2027-02-29T00:00",
        "2026-12-04T24:00", "2026-12-04T10:60", "2026-12-04T10:00:60", "2026-12-04T10:00:00.",
        "2026-12-04T10:00:00.x", "2026-12-04T10:00:00ZZ", "26-12-04T10:00", "1796378400"}) {
    EXPECT_FALSE(parse_utc_timestamp(bad)) << bad;
  }
}

TEST(FormatUtcTimestamp, RoundTrips) {
  for (std::string_view text : {"2026-12-04T10:00:00Z", "1999-12-31T23:59:59.000001Z"}) {
    EXPECT_EQ(format_utc_timestamp(*parse_utc_timestamp(text)), text);
  }
}

}  // namespace
}  // namespace sluice::core
