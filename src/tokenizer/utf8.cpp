#include "sluice/tokenizer/utf8.hpp"

#include <simdjson.h>

#include "tokenizer/unicode_classes.hpp"

namespace sluice::tokenizer {

std::optional<std::size_t> find_invalid_utf8(std::string_view text) noexcept {
  // simdjson's SIMD validator answers the common case (valid) at memory speed; the byte offset
  // is only needed for the error message.
  if (simdjson::validate_utf8(text.data(), text.size())) return std::nullopt;
  const auto* begin = reinterpret_cast<const std::uint8_t*>(text.data());
  const auto* end = begin + text.size();
  for (const auto* p = begin; p < end;) {
    if (*p < 0x80) {
      ++p;
      continue;
    }
    // read_char reads a non-ASCII byte as a one-byte character exactly when it does not begin a
    // well-formed sequence.
    const unicode::Char c = unicode::read_char(p, end);
    if (c.len == 1) return static_cast<std::size_t>(p - begin);
    p += c.len;
  }
  return std::nullopt;
}

}  // namespace sluice::tokenizer
