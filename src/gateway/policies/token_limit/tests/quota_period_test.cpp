#include "gateway/policies/token_limit/quota_period.hpp"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace sluice::gateway::token_limit {
namespace {

using std::chrono::system_clock;

system_clock::time_point at(std::int64_t unix_seconds) {
  return system_clock::time_point(std::chrono::seconds(unix_seconds));
}

// 2024-01-01T00:00:00Z is a Monday.
constexpr std::int64_t kJan1 = 1'704'067'200;
constexpr std::int64_t kDay = 86'400;

TEST(QuotaPeriod, HourlyAndDaily) {
  auto hour = period_bounds(QuotaPeriod::kHourly, at(kJan1 + 3 * 3600 + 1234));
  EXPECT_EQ(hour.start, kJan1 + 3 * 3600);
  EXPECT_EQ(hour.end, kJan1 + 4 * 3600);
  auto day = period_bounds(QuotaPeriod::kDaily, at(kJan1 + kDay - 1));
  EXPECT_EQ(day.start, kJan1);
  EXPECT_EQ(day.end, kJan1 + kDay);
  EXPECT_EQ(period_bounds(QuotaPeriod::kDaily, at(kJan1 + kDay)).start, kJan1 + kDay);
}

TEST(QuotaPeriod, WeeksStartOnMonday) {
  // Sunday 2024-01-07 23:59:59 is still in the week of Monday 2024-01-01.
  auto sunday = period_bounds(QuotaPeriod::kWeekly, at(kJan1 + 7 * kDay - 1));
  EXPECT_EQ(sunday.start, kJan1);
  EXPECT_EQ(sunday.end, kJan1 + 7 * kDay);
  // Wednesday 2024-01-10 belongs to the week starting Monday 2024-01-08.
  auto wednesday = period_bounds(QuotaPeriod::kWeekly, at(kJan1 + 9 * kDay + 5));
  EXPECT_EQ(wednesday.start, kJan1 + 7 * kDay);
  // Across a year: Tuesday 2024-12-31 is in the week of Monday 2024-12-30.
  auto new_year = period_bounds(QuotaPeriod::kWeekly, at(kJan1 + 365 * kDay));  // 2024-12-31
  EXPECT_EQ(format_utc(new_year.start), "2024-12-30T00:00:00Z");
  EXPECT_EQ(format_utc(new_year.end), "2025-01-06T00:00:00Z");
}

TEST(QuotaPeriod, MonthsHaveTheirOwnLengthsIncludingLeapFebruary) {
  auto jan =
      period_bounds(QuotaPeriod::kMonthly, at(kJan1 + 30 * kDay + 86'399));  // Jan 31 23:59:59
  EXPECT_EQ(format_utc(jan.start), "2024-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(jan.end), "2024-02-01T00:00:00Z");
  auto feb = period_bounds(QuotaPeriod::kMonthly, at(kJan1 + 59 * kDay));  // 2024-02-29
  EXPECT_EQ(format_utc(feb.start), "2024-02-01T00:00:00Z");
  EXPECT_EQ(format_utc(feb.end), "2024-03-01T00:00:00Z");
  EXPECT_EQ(feb.end - feb.start, 29 * kDay);
  auto dec = period_bounds(QuotaPeriod::kMonthly, at(kJan1 + 350 * kDay));  // 2024-12-16
  EXPECT_EQ(format_utc(dec.start), "2024-12-01T00:00:00Z");
  EXPECT_EQ(format_utc(dec.end), "2025-01-01T00:00:00Z");
}

TEST(QuotaPeriod, YearsIncludingLeapYears) {
  auto y2024 = period_bounds(QuotaPeriod::kYearly, at(kJan1 + 365 * kDay + 86'399));
  EXPECT_EQ(format_utc(y2024.start), "2024-01-01T00:00:00Z");
  EXPECT_EQ(format_utc(y2024.end), "2025-01-01T00:00:00Z");
  EXPECT_EQ(y2024.end - y2024.start, 366 * kDay);
  auto y2025 = period_bounds(QuotaPeriod::kYearly, at(kJan1 + 366 * kDay));
  EXPECT_EQ(format_utc(y2025.start), "2025-01-01T00:00:00Z");
}

// A thread remembers the last bounds of each kind and answers from them while the time stays
// inside: walking forward and back over every kind's boundaries, each answer is the one a thread
// that has worked out nothing yet gives for the same time.
TEST(QuotaPeriod, RememberedBoundsAnswerAsNewOnesWould) {
  auto fresh = [](QuotaPeriod period, std::int64_t unix_seconds) {
    PeriodBounds bounds;
    std::thread([&] { bounds = period_bounds(period, at(unix_seconds)); }).join();
    return bounds;
  };
  const std::vector<std::int64_t> edges{kJan1 + 3600, kJan1 + kDay, kJan1 + 7 * kDay,
                                        kJan1 + 31 * kDay, kJan1 + 366 * kDay};
  std::vector<std::int64_t> walk;
  for (std::int64_t edge : edges) {
    for (std::int64_t step : {-2, -1, 0, 1, -1, 0, -1, 2, 0}) walk.push_back(edge + step);
  }
  walk.push_back(kJan1);  // back to where it began, past every edge
  for (auto period : {QuotaPeriod::kHourly, QuotaPeriod::kDaily, QuotaPeriod::kWeekly,
                      QuotaPeriod::kMonthly, QuotaPeriod::kYearly}) {
    for (std::int64_t time : walk) {
      const auto remembered = period_bounds(period, at(time));
      const auto worked_out = fresh(period, time);
      EXPECT_EQ(remembered.start, worked_out.start) << to_string(period) << " at " << time;
      EXPECT_EQ(remembered.end, worked_out.end) << to_string(period) << " at " << time;
    }
  }
}

TEST(QuotaPeriod, FormatsUtc) {
  EXPECT_EQ(format_utc(kJan1 + 3600 + 62), "2024-01-01T01:01:02Z");
  EXPECT_EQ(format_utc(0), "1970-01-01T00:00:00Z");
}

}  // namespace
}  // namespace sluice::gateway::token_limit
