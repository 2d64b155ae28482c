#pragma once
// UTC instants as people type them: ISO 8601 in UTC, and the form an HTML datetime-local input
// sends (no zone; read as UTC, as sluice shows every time in UTC). Used by the console's chargeback
// period and `sluice usage report --from/--until`.
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace sluice::core {

using UtcMicros = std::chrono::sys_time<std::chrono::microseconds>;

// `YYYY-MM-DDTHH:MM[:SS[.ffffff]][Z]`, always UTC. nullopt for anything else, including
// impossible dates (2026-02-30) and times (24:00). Thread-safe.
std::optional<UtcMicros> parse_utc_timestamp(std::string_view text);

// `2026-12-04T10:00:00Z` (microseconds shown only when not zero).
std::string format_utc_timestamp(UtcMicros at);

// What parse_utc_timestamp expects, for error messages.
inline constexpr std::string_view kUtcTimestampExpected =
    "expected a UTC date and time as YYYY-MM-DDTHH:MM[:SS][Z], e.g. 2026-12-04T10:00:00Z";

}  // namespace sluice::core
