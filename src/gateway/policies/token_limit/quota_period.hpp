#pragma once
// Calendar periods of token quotas. Periods are UTC and aligned to the calendar, as APIM's
// token-quota-period is: an hourly quota resets on the hour, a daily one at 00:00, a weekly one on
// Monday 00:00 (ISO weeks), a monthly one on the 1st, a yearly one on January 1st.
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace sluice::gateway::token_limit {

enum class QuotaPeriod { kHourly, kDaily, kWeekly, kMonthly, kYearly };

const char* to_string(QuotaPeriod period);

struct PeriodBounds {
  std::int64_t start = 0;  // Unix seconds, inclusive
  std::int64_t end = 0;    // Unix seconds, exclusive: when the next period starts
};

// The period of `period` kind that contains `at`. Pure; any thread.
PeriodBounds period_bounds(QuotaPeriod period, std::chrono::system_clock::time_point at);

// "2024-02-01T00:00:00Z". Any thread.
std::string format_utc(std::int64_t unix_seconds);

}  // namespace sluice::gateway::token_limit
