#pragma once
// Human-written byte sizes, as used in config files and CLI flags: "16MiB", "64KiB", "1MB".
#include <compare>
#include <cstdint>
#include <string>
#include <string_view>

#include "sluice/core/result.hpp"

namespace sluice::core {

// A size in bytes. A distinct type so a config reader can tell "a size" from "a count".
struct ByteSize {
  std::uint64_t bytes = 0;

  friend auto operator<=>(const ByteSize&, const ByteSize&) = default;
};

// Parses "<decimal>[ ]<unit>" where unit is B, kB/KB, MB, GB, TB (powers of 1000) or KiB, MiB,
// GiB, TiB (powers of 1024); a bare number is bytes. Fractions are allowed when the result is a
// whole number of bytes ("1.5KiB" = 1536). Guarantees: exact; negative, fractional-byte,
// overflowing or unknown-unit input is a kInvalidArgument error. Any thread.
Result<ByteSize> parse_byte_size(std::string_view text);

// The largest binary unit that divides the size exactly ("16MiB", "1000B"). Round-trips through
// parse_byte_size. Any thread.
std::string format_byte_size(ByteSize size);

}  // namespace sluice::core
