#include "gateway/console/chargeback_range.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::console {
namespace {

using namespace std::chrono;

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

const UtcMicros kNow{microseconds{kTenOClockUs}};

TEST(ChargebackRange, DefaultsToTheLast24Hours) {
  auto result = chargeback_range("", kNow);
  ASSERT_TRUE(result.range);
  EXPECT_EQ(result.range->since, "24h");
  EXPECT_EQ(result.range->range.since_us, kTenOClockUs - 86'400'000'000);
  EXPECT_EQ(result.range->range.until_us, usage::TimeRange{}.until_us);
  EXPECT_EQ(result.range->label, "24h");
}

TEST(ChargebackRange, SinceKeepsWorking) {
  auto result = chargeback_range("since=1h&by=app", kNow);
  ASSERT_TRUE(result.range);
  EXPECT_EQ(result.range->range.since_us, kTenOClockUs - 3'600'000'000);
}

TEST(ChargebackRange, FromUntilBoundsBothEnds) {
  // As the page sends it: encodeURIComponent turns ':' into %3A.
  auto result = chargeback_range("from=2026-12-04T09%3A00&until=2026-12-04T10%3A00%3A00Z", kNow);
  ASSERT_TRUE(result.range) << result.refusal->message;
  EXPECT_EQ(result.range->range.since_us, kTenOClockUs - 3'600'000'000);
  EXPECT_EQ(result.range->range.until_us, kTenOClockUs);
  EXPECT_EQ(result.range->from, "2026-12-04T09:00:00Z");
  EXPECT_EQ(result.range->until, "2026-12-04T10:00:00Z");
  EXPECT_EQ(result.range->since, "");
  EXPECT_EQ(result.range->label, "2026-12-04T09-00-00Z_2026-12-04T10-00-00Z");
}

TEST(ChargebackRange, EitherEndMayStayOpen) {
  auto from_only = chargeback_range("from=2026-12-04T09:00:00Z", kNow);
  ASSERT_TRUE(from_only.range);
  EXPECT_EQ(from_only.range->range.until_us, usage::TimeRange{}.until_us);
  EXPECT_EQ(from_only.range->label, "2026-12-04T09-00-00Z_now");
  auto until_only = chargeback_range("until=2026-12-04T09:00:00Z", kNow);
  ASSERT_TRUE(until_only.range);
  EXPECT_EQ(until_only.range->range.since_us, 0);
}

void expect_refused(std::string_view query, std::string_view code, std::string_view names) {
  auto result = chargeback_range(query, kNow);
  ASSERT_FALSE(result.range) << query;
  ASSERT_TRUE(result.refusal);
  EXPECT_EQ(result.refusal->code, code) << query;
  EXPECT_NE(result.refusal->message.find(names), std::string::npos) << result.refusal->message;
}

TEST(ChargebackRange, RefusesBadInputNamingTheParameterAndTheExpectedForm) {
  expect_refused("from=yesterday", "invalid_from", "from=yesterday: expected a UTC date and time");
  expect_refused("from=2026-12-04T09:00Z&until=12/04/2026", "invalid_until",
                 "until=12/04/2026: expected a UTC date and time as YYYY-MM-DDTHH:MM");
  expect_refused("from=2026-12-04T10:00Z&until=2026-12-04T09:00Z", "invalid_range",
                 "is not before until=");
  expect_refused("from=2026-12-04T10:00Z&until=2026-12-04T10:00Z", "invalid_range",
                 "is not before until=");
  expect_refused("since=1h&from=2026-12-04T10:00Z", "invalid_range", "not both");
  expect_refused("since=forever", "invalid_since", "since=forever");
}

}  // namespace
}  // namespace sluice::gateway::console
