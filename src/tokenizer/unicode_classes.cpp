#include "tokenizer/unicode_classes.hpp"

namespace sluice::tokenizer::unicode {

Char read_non_ascii_char(const std::uint8_t* p, const std::uint8_t* end) noexcept {
  const std::uint8_t b0 = p[0];
  const std::size_t avail = static_cast<std::size_t>(end - p);
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    if (avail >= 2 && (p[1] & 0xC0) == 0x80) {
      return {class_of(((b0 & 0x1Fu) << 6) | (p[1] & 0x3Fu)), 2};
    }
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (avail >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80) {
      const std::uint32_t cp = ((b0 & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) | (p[2] & 0x3Fu);
      if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF)) return {class_of(cp), 3};
    }
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (avail >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 && (p[3] & 0xC0) == 0x80) {
      const std::uint32_t cp =
          ((b0 & 0x07u) << 18) | ((p[1] & 0x3Fu) << 12) | ((p[2] & 0x3Fu) << 6) | (p[3] & 0x3Fu);
      if (cp >= 0x10000 && cp <= 0x10FFFF) return {class_of(cp), 4};
    }
  }
  return {0, 1};
}

}  // namespace sluice::tokenizer::unicode
