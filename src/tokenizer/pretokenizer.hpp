#pragma once
// Hand-written pre-tokenizers that split text exactly like tiktoken's pat_str regexes under Rust
// regex / fancy-regex semantics: leftmost-first alternation, greedy quantifiers with
// backtracking, Unicode classes, `\s+(?!\S)` and end of text meaning the end of the segment.
//
// cl100k_base (the form npm tiktoken 1.0.22 uses):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*
//   |\s*[\r\n]+|\s+(?!\S)|\s+
// o200k_base:
//   [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|...)?
//   |[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|...)?
//   |\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+
//
// Each function below returns where the match starting at p ends; the comments give the regex
// reasoning that turns backtracking into a single forward scan. Every position has a non-empty
// match (each character is a letter, a number, white space or "other"), so pieces tile the text.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "sluice/tokenizer/encoding.hpp"
#include "tokenizer/unicode_classes.hpp"

namespace sluice::tokenizer::pretokenizer {

using unicode::Char;
using unicode::read_char;
using Ptr = const std::uint8_t*;

// [^\s\p{L}\p{N}]
inline bool is_other(std::uint8_t cls) noexcept {
  return (cls & (unicode::kSpace | unicode::kLetter | unicode::kNumber)) == 0;
}
// [^\r\n\p{L}\p{N}], the optional first character of a word
inline bool is_word_prefix(std::uint8_t cls) noexcept {
  return (cls & (unicode::kNewline | unicode::kLetter | unicode::kNumber)) == 0;
}

// Skips characters having any bit of `mask`.
inline Ptr skip_class(Ptr p, Ptr end, std::uint8_t mask) noexcept {
  while (p < end) {
    const Char c = read_char(p, end);
    if ((c.cls & mask) == 0) break;
    p += c.len;
  }
  return p;
}

// (?i:'s|'t|'re|'ve|'m|'ll|'d) at p: its length, or 0. Rust's (?i) uses Unicode simple case
// folding, under which `s` also matches U+017F LATIN SMALL LETTER LONG S; no other letter here
// has a non-ASCII fold.
inline std::size_t contraction_len(Ptr p, Ptr end) noexcept {
  if (end - p < 2 || p[0] != '\'') return 0;
  switch (p[1]) {
    case 's':
    case 'S':
    case 't':
    case 'T':
    case 'm':
    case 'M':
    case 'd':
    case 'D':
      return 2;
    case 'r':
    case 'R':
    case 'v':
    case 'V':
      return end - p >= 3 && (p[2] | 0x20) == 'e' ? 3 : 0;
    case 'l':
    case 'L':
      return end - p >= 3 && (p[2] | 0x20) == 'l' ? 3 : 0;
    case 0xC5:
      return end - p >= 3 && p[2] == 0xBF ? 3 : 0;
    default:
      return 0;
  }
}

// \p{N}{1,3}; needs the character at p to be a number.
inline Ptr numbers(Ptr p, Char first, Ptr end) noexcept {
  p += first.len;
  for (int k = 1; k < 3 && p < end; ++k) {
    const Char c = read_char(p, end);
    if ((c.cls & unicode::kNumber) == 0) break;
    p += c.len;
  }
  return p;
}

// The alternatives shared by both patterns once words and numbers failed at p:
//   ` ?[^\s\p{L}\p{N}]+[\r\n]*` (o200k: `[\r\n/]*`), `\s*[\r\n]+`, `\s+(?!\S)`, `\s+`.
template <Pattern kPattern>
Ptr other_or_space(Ptr p, Char c, Ptr end) noexcept {
  // ` ?` is taken only when an "other" character follows; without it the class must match at p.
  Ptr q = p;
  Char first = c;
  if (*p == ' ' && p + 1 < end) {
    const Char next = read_char(p + 1, end);
    if (is_other(next.cls)) {
      q = p + 1;
      first = next;
    }
  }
  if (is_other(first.cls)) {
    q += first.len;
    while (q < end) {
      const Char d = read_char(q, end);
      if (!is_other(d.cls)) break;
      q += d.len;
    }
    while (q < end && (*q == '\r' || *q == '\n' || (kPattern == Pattern::kO200k && *q == '/'))) {
      ++q;
    }
    return q;
  }
  // Here c is white space. Scan the whole run [p, q), remembering where its last character starts
  // and the end of its last \r or \n.
  Ptr last_start = p;
  Ptr after_newline = nullptr;
  while (q < end) {
    const Char d = read_char(q, end);
    if ((d.cls & unicode::kSpace) == 0) break;
    if (d.cls & unicode::kNewline) after_newline = q + d.len;
    last_start = q;
    q += d.len;
  }
  // \s*[\r\n]+: \s* backtracks to just before the run's last newline, and [\r\n]+ cannot extend
  // past it (what follows is not a newline).
  if (after_newline != nullptr) return after_newline;
  // \s+(?!\S): the whole run at the end of text; otherwise the run minus its last character, so
  // that the character can start the next word. If that leaves nothing, \s+ takes the single
  // character.
  if (q == end || last_start == p) return q;
  return last_start;
}

// One cl100k_base match starting at p (p < end).
inline Ptr cl100k_piece_end(Ptr p, Ptr end) noexcept {
  if (*p == '\'') {
    if (const std::size_t n = contraction_len(p, end)) return p + n;
  }
  const Char c = read_char(p, end);
  // [^\r\n\p{L}\p{N}]?\p{L}+ : the optional prefix is tried first; a letter cannot be a prefix.
  if (c.cls & unicode::kLetter) return skip_class(p + c.len, end, unicode::kLetter);
  if (is_word_prefix(c.cls) && p + c.len < end) {
    const Char next = read_char(p + c.len, end);
    if (next.cls & unicode::kLetter) {
      return skip_class(p + c.len + next.len, end, unicode::kLetter);
    }
  }
  if (c.cls & unicode::kNumber) return numbers(p, c, end);
  return other_or_space<Pattern::kCl100k>(p, c, end);
}

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+ at p, or nullptr. The star takes the
// longest run of the first class; if the second class cannot follow, it gives back characters
// until it can, which happens at the last character of the run that is also in the second class
// (Lm, Lo, M), and then the plus matches just that character.
inline Ptr upper_star_lower_plus(Ptr p, Ptr end) noexcept {
  Ptr last_both = nullptr;
  std::uint8_t last_both_len = 0;
  while (p < end) {
    const Char c = read_char(p, end);
    if ((c.cls & unicode::kUpperSet) == 0) {
      if (c.cls & unicode::kLowerSet) return skip_class(p + c.len, end, unicode::kLowerSet);
      break;
    }
    if (c.cls & unicode::kLowerSet) {
      last_both = p;
      last_both_len = c.len;
    }
    p += c.len;
  }
  return last_both != nullptr ? last_both + last_both_len : nullptr;
}

// [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]* at p, or nullptr.
inline Ptr upper_plus_lower_star(Ptr p, Ptr end) noexcept {
  const Ptr q = skip_class(p, end, unicode::kUpperSet);
  return q == p ? nullptr : skip_class(q, end, unicode::kLowerSet);
}

// One o200k_base match starting at p (p < end).
inline Ptr o200k_piece_end(Ptr p, Ptr end) noexcept {
  const Char c = read_char(p, end);
  // Alternatives 1 and 2, each with the optional prefix character tried first. Without the
  // prefix they can only differ when c is a mark (in the prefix class and in both case sets).
  const Ptr after_prefix = is_word_prefix(c.cls) ? p + c.len : nullptr;
  const bool bare = (c.cls & (unicode::kUpperSet | unicode::kLowerSet)) != 0;
  Ptr e = nullptr;
  if (after_prefix != nullptr) e = upper_star_lower_plus(after_prefix, end);
  if (e == nullptr && bare) e = upper_star_lower_plus(p, end);
  if (e == nullptr && after_prefix != nullptr) e = upper_plus_lower_star(after_prefix, end);
  if (e == nullptr && bare) e = upper_plus_lower_star(p, end);
  if (e != nullptr) return e + contraction_len(e, end);
  if (c.cls & unicode::kNumber) return numbers(p, c, end);
  return other_or_space<Pattern::kO200k>(p, c, end);
}

// Calls on_piece(begin, end) for each piece of [p, end), in order.
template <Pattern kPattern, class OnPiece>
void for_each_piece(Ptr p, Ptr end, OnPiece&& on_piece) {
  while (p < end) {
    const Ptr e = kPattern == Pattern::kCl100k ? cl100k_piece_end(p, end) : o200k_piece_end(p, end);
    on_piece(p, e);
    p = e;
  }
}

}  // namespace sluice::tokenizer::pretokenizer
