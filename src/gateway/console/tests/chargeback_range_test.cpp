#include "gateway/console/chargeback_range.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway::console {
namespace {

using namespace std::chrono;

// 2026-12-04T10:00:00Z
constexpr std::int64_t kTenOClockUs = 1'796'378'400'000'000;

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
