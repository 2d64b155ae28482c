#pragma once
// Character classes of the tiktoken pre-tokenizer patterns, one byte per code point, and a UTF-8
// reader that never fails: the splitter must accept any bytes without a separate validation pass.
#include <cstddef>
#include <cstdint>

namespace sluice::tokenizer::unicode {

// Bits of a class byte. A code point can have several (Lm/Lo letters are in both case sets).
inline constexpr std::uint8_t kLetter = 1;    // \p{L}
inline constexpr std::uint8_t kUpperSet = 2;  // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
inline constexpr std::uint8_t kLowerSet = 4;  // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
inline constexpr std::uint8_t kNumber = 8;    // \p{N}
inline constexpr std::uint8_t kSpace = 16;    // \s, i.e. White_Space
inline constexpr std::uint8_t kNewline = 32;  // [\r\n]

#include "tokenizer/unicode_classes_table.inc"

// The class byte of a code point (< 0x110000).
inline std::uint8_t class_of(std::uint32_t cp) noexcept {
  return kUnicodeStage2[(static_cast<std::uint32_t>(kUnicodeStage1[cp >> kUnicodeBlockShift])
                         << kUnicodeBlockShift) |
                        (cp & ((1u << kUnicodeBlockShift) - 1))];
}

// One character as the splitter sees it: its class and its length in bytes.
struct Char {
  std::uint8_t cls;
  std::uint8_t len;
};

// Reads the non-ASCII character at p (p < end, *p >= 0x80); see read_char.
Char read_non_ascii_char(const std::uint8_t* p, const std::uint8_t* end) noexcept;

// Reads the character at p (p < end). A byte that does not start a well-formed UTF-8 sequence
// (stray continuation byte, overlong form, surrogate, value above U+10FFFF, truncated sequence) is
// read as one character of class 0, like punctuation; the rank tables hold every single byte, so
// such input still encodes, and decodes back to the same bytes. ASCII, most of the input, is
// inlined; the rest is one call.
[[gnu::always_inline]] inline Char read_char(const std::uint8_t* p,
                                             const std::uint8_t* end) noexcept {
  if (*p < 0x80) return {kUnicodeStage2[*p], 1};  // block 0 holds ASCII in order
  return read_non_ascii_char(p, end);
}

}  // namespace sluice::tokenizer::unicode
