#include "sluice/core/utc_timestamp.hpp"

#include <cstdint>
#include <cstdio>

namespace sluice::core {

namespace {

// Exactly `digits` decimal digits at `text[at]`.
std::optional<int> fixed_number(std::string_view text, std::size_t at, std::size_t digits) {
  if (at + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = at; i < at + digits; ++i) {
    if (text[i] < '0' || text[i] > '9') return std::nullopt;
    value = value * 10 + (text[i] - '0');
  }
  return value;
}

}  // namespace

std::optional<UtcMicros> parse_utc_timestamp(std::string_view text) {
  if (!text.empty() && text.back() == 'Z') text.remove_suffix(1);
  // YYYY-MM-DDTHH:MM is the shortest form (a datetime-local input without seconds).
  if (text.size() < 16 || text[4] != '-' || text[7] != '-' || text[10] != 'T' || text[13] != ':') {
    return std::nullopt;
  }
  auto year = fixed_number(text, 0, 4);
  auto month = fixed_number(text, 5, 2);
  auto day = fixed_number(text, 8, 2);
  auto hour = fixed_number(text, 11, 2);
  auto minute = fixed_number(text, 14, 2);
  if (!year || !month || !day || !hour || !minute) return std::nullopt;
  int second = 0;
  std::int64_t micros = 0;
  std::size_t at = 16;
  if (at < text.size()) {
    if (text[at] != ':') return std::nullopt;
    auto seconds = fixed_number(text, at + 1, 2);
    if (!seconds) return std::nullopt;
    second = *seconds;
    at += 3;
    if (at < text.size()) {
      // A fraction of a second: up to six digits count, at least one must be there.
      if (text[at] != '.' || at + 1 == text.size()) return std::nullopt;
      std::int64_t scale = 100'000;
      for (std::size_t i = at + 1; i < text.size(); ++i) {
        if (text[i] < '0' || text[i] > '9') return std::nullopt;
        micros += (text[i] - '0') * scale;
        scale /= 10;
      }
    }
  }
  std::chrono::year_month_day date{std::chrono::year{*year},
                                   std::chrono::month{static_cast<unsigned>(*month)},
                                   std::chrono::day{static_cast<unsigned>(*day)}};
  if (!date.ok() || *hour > 23 || *minute > 59 || second > 59) return std::nullopt;
  return UtcMicros{std::chrono::sys_days{date}.time_since_epoch() + std::chrono::hours{*hour} +
                   std::chrono::minutes{*minute} + std::chrono::seconds{second} +
                   std::chrono::microseconds{micros}};
}

std::string format_utc_timestamp(UtcMicros at) {
  auto day = std::chrono::floor<std::chrono::days>(at);
  std::chrono::year_month_day date{day};
  std::chrono::hh_mm_ss time{at - day};
  char buffer[48];
  int n = std::snprintf(buffer, sizeof buffer, "%04d-%02u-%02uT%02d:%02d:%02d",
                        static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                        static_cast<unsigned>(date.day()), static_cast<int>(time.hours().count()),
                        static_cast<int>(time.minutes().count()),
                        static_cast<int>(time.seconds().count()));
  std::string text(buffer, static_cast<std::size_t>(n));
  if (auto micros = time.subseconds().count(); micros != 0) {
    std::snprintf(buffer, sizeof buffer, ".%06lld", static_cast<long long>(micros));
    text += buffer;
  }
  return text + "Z";
}

}  // namespace sluice::core
