#include "gateway/policies/token_limit/quota_period.hpp"

#include <array>
#include <cstdio>

namespace sluice::gateway::token_limit {

namespace {

using namespace std::chrono;

std::int64_t unix_seconds(sys_days day) {
  return duration_cast<seconds>(day.time_since_epoch()).count();
}

}  // namespace

const char* to_string(QuotaPeriod period) {
  switch (period) {
    case QuotaPeriod::kHourly:
      return "hourly";
    case QuotaPeriod::kDaily:
      return "daily";
    case QuotaPeriod::kWeekly:
      return "weekly";
    case QuotaPeriod::kMonthly:
      return "monthly";
    case QuotaPeriod::kYearly:
      return "yearly";
  }
  return "daily";
}

namespace {

PeriodBounds compute_period_bounds(QuotaPeriod period, sys_seconds now) {
  sys_days today = floor<days>(now);
  year_month_day date{today};
  PeriodBounds bounds;
  switch (period) {
    case QuotaPeriod::kHourly: {
      auto hour = floor<hours>(now);
      bounds.start = duration_cast<seconds>(hour.time_since_epoch()).count();
      bounds.end = bounds.start + 3600;
      break;
    }
    case QuotaPeriod::kDaily:
      bounds.start = unix_seconds(today);
      bounds.end = unix_seconds(today + days(1));
      break;
    case QuotaPeriod::kWeekly: {
      // ISO weeks start on Monday: days since Monday is (weekday + 6) % 7.
      unsigned since_monday = (weekday(today).c_encoding() + 6) % 7;
      sys_days monday = today - days(since_monday);
      bounds.start = unix_seconds(monday);
      bounds.end = unix_seconds(monday + days(7));
      break;
    }
    case QuotaPeriod::kMonthly: {
      year_month first = date.year() / date.month();
      bounds.start = unix_seconds(sys_days(first / day(1)));
      bounds.end = unix_seconds(sys_days((first + months(1)) / day(1)));
      break;
    }
    case QuotaPeriod::kYearly:
      bounds.start = unix_seconds(sys_days(date.year() / January / 1));
      bounds.end = unix_seconds(sys_days((date.year() + years(1)) / January / 1));
      break;
  }
  return bounds;
}

}  // namespace

PeriodBounds period_bounds(QuotaPeriod period, system_clock::time_point at) {
  // Every time inside a period has that period's bounds, so the last ones this thread worked out
  // for each kind answer until the clock leaves them: the calendar arithmetic above was ~120
  // instructions, and a request with a quota asks twice (reserve and settle).
  // By kind; {0, 0} holds no time.
  thread_local std::array<PeriodBounds, static_cast<std::size_t>(QuotaPeriod::kYearly) + 1> last{};
  const auto now = floor<seconds>(at);
  const std::int64_t second = now.time_since_epoch().count();
  PeriodBounds& known = last[static_cast<std::size_t>(period)];
  if (second >= known.start && second < known.end) return known;
  known = compute_period_bounds(period, now);
  return known;
}

std::string format_utc(std::int64_t unix_seconds) {
  sys_seconds at{seconds(unix_seconds)};
  sys_days day = floor<days>(at);
  year_month_day date{day};
  hh_mm_ss time{at - day};
  char text[40];
  std::snprintf(text, sizeof text, "%04d-%02u-%02uT%02d:%02d:%02dZ", static_cast<int>(date.year()),
                static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()),
                static_cast<int>(time.seconds().count()));
  return text;
}

}  // namespace sluice::gateway::token_limit
