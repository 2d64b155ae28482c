#include "decimal_quantity.hpp"

#include <string>

namespace sluice::core::detail {
namespace {

using u128 = unsigned __int128;

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_space(char c) {
  return c == ' ' || c == '\t';
}

Error invalid(std::string message) {
  return Error{ErrorCode::kInvalidArgument, std::move(message)};
}

std::string unit_list(const QuantityGrammar& grammar) {
  std::string list;
  for (const auto& unit : grammar.units) {
    if (!list.empty()) list += ", ";
    list += unit.suffix;
  }
  return list;
}

}  // namespace

Result<std::uint64_t> parse_quantity(std::string_view text, const QuantityGrammar& grammar) {
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  if (text.empty()) return invalid(std::string("empty ") + std::string(grammar.what));
  if (text.front() == '-') {
    return invalid(std::string(grammar.what) + " must not be negative");
  }
  if (text.front() == '+') text.remove_prefix(1);

  u128 total = 0;
  int parts = 0;
  std::size_t i = 0;
  while (i < text.size()) {
    // Number: digits, optionally '.' and more digits; at least one digit overall.
    u128 mantissa = 0;
    u128 divisor = 1;
    int digits = 0;
    bool in_fraction = false;
    int fraction_digits = 0;
    for (; i < text.size(); ++i) {
      char c = text[i];
      if (is_digit(c)) {
        ++digits;
        if (in_fraction) {
          if (++fraction_digits > 18) {
            return invalid("too many decimal places in " + std::string(grammar.what));
          }
          divisor *= 10;
        } else if (mantissa > static_cast<u128>(UINT64_MAX)) {
          return invalid(std::string(grammar.what) + " is too large");
        }
        mantissa = mantissa * 10 + static_cast<unsigned>(c - '0');
      } else if (c == '.' && !in_fraction) {
        in_fraction = true;
      } else {
        break;
      }
    }
    if (digits == 0) {
      return invalid("expected a number in " + std::string(grammar.what));
    }
    std::size_t unit_start = i;
    while (unit_start < text.size() && is_space(text[unit_start])) ++unit_start;
    std::size_t unit_end = unit_start;
    while (unit_end < text.size() && !is_digit(text[unit_end]) && text[unit_end] != '.' &&
           !is_space(text[unit_end])) {
      ++unit_end;
    }
    std::string_view suffix = text.substr(unit_start, unit_end - unit_start);
    std::uint64_t scale = 0;
    if (suffix.empty()) {
      if (parts > 0 || unit_end != text.size()) {
        return invalid("missing unit in " + std::string(grammar.what) + " (use " +
                       unit_list(grammar) + ")");
      }
      scale = grammar.bare_scale;
    } else {
      for (const auto& unit : grammar.units) {
        if (unit.suffix == suffix) scale = unit.scale;
      }
      if (scale == 0) {
        return invalid("unknown unit '" + std::string(suffix) + "' in " +
                       std::string(grammar.what) + " (use " + unit_list(grammar) + ")");
      }
    }
    // mantissa < 2^64 * 10^18 < 2^124 and scale < 2^64 may overflow 128 bits, so check.
    u128 scaled = 0;
    if (__builtin_mul_overflow(mantissa, static_cast<u128>(scale), &scaled)) {
      return invalid(std::string(grammar.what) + " is too large");
    }
    if (scaled % divisor != 0) {
      return invalid(std::string(grammar.what) + " is not a whole number of " +
                     std::string(grammar.base_unit) + "s");
    }
    total += scaled / divisor;
    if (total > static_cast<u128>(grammar.max)) {
      return invalid(std::string(grammar.what) + " is too large");
    }
    ++parts;
    i = unit_end;
    while (i < text.size() && is_space(text[i])) ++i;
    if (i < text.size() && !grammar.compound) {
      return invalid("unexpected text after the unit of " + std::string(grammar.what));
    }
  }
  return static_cast<std::uint64_t>(total);
}

}  // namespace sluice::core::detail
