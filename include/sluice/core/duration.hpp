#pragma once
// Human-written durations, as used in config files and CLI flags: "250ms", "1.5s", "2m", "1h30m".
#include <chrono>
#include <string>
#include <string_view>

#include "sluice/core/result.hpp"

namespace sluice::core {

// Parses a non-negative duration: one or more <decimal><unit> parts ("1h30m", "1m0.5s") where the
// unit is ns, us (or µs), ms, s, m, h or d; a bare number with no unit is seconds ("30", "0.25").
// Guarantees: the result is exact (never rounded); a value that is not a whole number of
// nanoseconds, is negative, overflows, or has an unknown unit is an kInvalidArgument error whose
// message says what is wrong but does not repeat the input (callers add their own context).
// Any thread.
Result<std::chrono::nanoseconds> parse_duration(std::string_view text);

// The shortest exact spelling in the largest unit that divides the value: "90s", "250ms", "2h",
// "0s". parse_duration(format_duration(d)) == d for every non-negative d. Any thread.
std::string format_duration(std::chrono::nanoseconds value);

}  // namespace sluice::core
