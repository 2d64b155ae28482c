#pragma once
// Shared grammar of durations and byte sizes: decimal numbers with unit suffixes, computed exactly
// in integer base units (nanoseconds, bytes). Private to sluice_core.
#include <cstdint>
#include <span>
#include <string_view>

#include "sluice/core/result.hpp"

namespace sluice::core::detail {

struct QuantityUnit {
  std::string_view suffix;  // exact, case-sensitive
  std::uint64_t scale;      // base units per one of this unit
};

struct QuantityGrammar {
  std::string_view what;                // "duration", "byte size": used in messages
  std::span<const QuantityUnit> units;  // suffixes that may follow a number
  std::uint64_t bare_scale;             // scale of a number written with no unit
  bool compound;                        // whether parts may be chained: "1h30m"
  std::uint64_t max;                    // largest acceptable result
  std::string_view base_unit;           // "nanosecond", "byte": for the not-whole message
};

// Parses `text` with `grammar`. Errors are kInvalidArgument and never quote the input.
Result<std::uint64_t> parse_quantity(std::string_view text, const QuantityGrammar& grammar);

}  // namespace sluice::core::detail
