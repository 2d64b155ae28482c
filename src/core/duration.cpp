#include "sluice/core/duration.hpp"

#include <array>
#include <cstdint>
#include <limits>

#include "decimal_quantity.hpp"

namespace sluice::core {
namespace {

constexpr std::uint64_t kMicro = 1'000;
constexpr std::uint64_t kMilli = 1'000'000;
constexpr std::uint64_t kSecond = 1'000'000'000;
constexpr std::uint64_t kMinute = 60 * kSecond;
constexpr std::uint64_t kHour = 60 * kMinute;
constexpr std::uint64_t kDay = 24 * kHour;

constexpr std::array<detail::QuantityUnit, 8> kUnits{{
    {"ns", 1},
    {"us", kMicro},
    {"\u00b5s", kMicro},
    {"ms", kMilli},
    {"s", kSecond},
    {"m", kMinute},
    {"h", kHour},
    {"d", kDay},
}};

}  // namespace

Result<std::chrono::nanoseconds> parse_duration(std::string_view text) {
  static constexpr detail::QuantityGrammar kGrammar{
      .what = "duration",
      .units = kUnits,
      .bare_scale = kSecond,
      .compound = true,
      .max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()),
      .base_unit = "nanosecond",
  };
  auto parsed = detail::parse_quantity(text, kGrammar);
  if (!parsed) return std::move(parsed).error();
  return std::chrono::nanoseconds(static_cast<std::int64_t>(*parsed));
}

std::string format_duration(std::chrono::nanoseconds value) {
  std::int64_t ns = value.count();
  if (ns == 0) return "0s";
  // Largest unit that divides exactly; "d" is left out because "48h" reads better than "2d".
  static constexpr std::array<detail::QuantityUnit, 6> kFormatUnits{
      {{"h", kHour}, {"m", kMinute}, {"s", kSecond}, {"ms", kMilli}, {"us", kMicro}, {"ns", 1}}};
  std::string sign = ns < 0 ? "-" : "";
  // Negative values are formatted for messages only; parse_duration rejects them.
  std::uint64_t magnitude =
      ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
  for (const auto& unit : kFormatUnits) {
    if (magnitude % unit.scale == 0) {
      return sign + std::to_string(magnitude / unit.scale) + std::string(unit.suffix);
    }
  }
  return sign + std::to_string(magnitude) + "ns";  // unreachable: ns divides everything
}

}  // namespace sluice::core
