#include "sluice/core/byte_size.hpp"

#include <array>
#include <limits>

#include "decimal_quantity.hpp"

namespace sluice::core {
namespace {

constexpr std::uint64_t kKiB = 1024;
constexpr std::uint64_t kMiB = kKiB * 1024;
constexpr std::uint64_t kGiB = kMiB * 1024;
constexpr std::uint64_t kTiB = kGiB * 1024;

constexpr std::array<detail::QuantityUnit, 10> kUnits{{
    {"B", 1},
    {"KiB", kKiB},
    {"MiB", kMiB},
    {"GiB", kGiB},
    {"TiB", kTiB},
    {"kB", 1'000},
    {"KB", 1'000},
    {"MB", 1'000'000},
    {"GB", 1'000'000'000},
    {"TB", 1'000'000'000'000},
}};

}  // namespace

Result<ByteSize> parse_byte_size(std::string_view text) {
  static constexpr detail::QuantityGrammar kGrammar{
      .what = "byte size",
      .units = kUnits,
      .bare_scale = 1,
      .compound = false,
      .max = std::numeric_limits<std::uint64_t>::max(),
      .base_unit = "byte",
  };
  auto parsed = detail::parse_quantity(text, kGrammar);
  if (!parsed) return std::move(parsed).error();
  return ByteSize{*parsed};
}

std::string format_byte_size(ByteSize size) {
  static constexpr std::array<detail::QuantityUnit, 4> kFormatUnits{
      {{"TiB", kTiB}, {"GiB", kGiB}, {"MiB", kMiB}, {"KiB", kKiB}}};
  if (size.bytes != 0) {
    for (const auto& unit : kFormatUnits) {
      if (size.bytes % unit.scale == 0) {
        return std::to_string(size.bytes / unit.scale) + std::string(unit.suffix);
      }
    }
  }
  return std::to_string(size.bytes) + "B";
}

}  // namespace sluice::core
