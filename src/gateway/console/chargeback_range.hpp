#pragma once
// The period a chargeback view covers, from its query: either `since` (a duration back from now,
// the presets 1h/24h/7d/30d or any duration) or `from` and/or `until` (UTC instants). The page's
// datetime-local inputs send `2026-12-04T10:00` without a zone; the console treats that as UTC, as
// it shows every other time in UTC.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sluice/core/utc_timestamp.hpp"
#include "sluice/usage/store.hpp"

namespace sluice::gateway::console {

using core::format_utc_timestamp;
using core::parse_utc_timestamp;
using core::UtcMicros;

struct ChargebackRange {
  usage::TimeRange range;
  std::string since;  // the `since` duration when the range is one, else ""
  std::string from;   // normalized `from`, "" when open
  std::string until;  // normalized `until`, "" when open (now)
  // For the CSV's file name: "24h" or "2026-12-04T10-00-00Z_2026-12-05T10-00-00Z".
  std::string label;
};

struct RangeRefusal {
  std::string code;     // invalid_since, invalid_from, invalid_until, invalid_range
  std::string message;  // names the parameter, what it holds, and what is expected
};

// Reads since/from/until from `query` (a request's raw query string). With `from` or `until`,
// `since` must be absent; without any of them the range is the last 24 h. `now` ends a `since`
// range. Either the range or why it is refused, never both.
struct ChargebackRangeResult {
  std::optional<ChargebackRange> range;
  std::optional<RangeRefusal> refusal;
};
ChargebackRangeResult chargeback_range(std::string_view query, UtcMicros now);

}  // namespace sluice::gateway::console
