#pragma once
// JSON checked in one pass as simdjson's DOM parser checks it, handing the values of a few keys to
// a reader: for the small documents on every request (the answer's usage, usage_scan.cpp; the
// request body's routing fields, request_body_scan.cpp), where simdjson's two stages ran through
// ~10 KiB of cold code each time.
//
// It decides only what it can decide exactly as simdjson would. Anything else makes the whole
// scan undecided, and the caller parses with simdjson as before:
// - a byte of 0x80 or more (UTF-8 to validate);
// - a `\u` escape (surrogate pairs to check);
// - a number with a fraction or an exponent, `-0`, or more than 18 digits (range rules);
// - nesting deeper than 64;
// - a top level that is not an object;
// - whatever the reader declines (an escaped string it would have to unescape, say).
//
// An undecided text costs the pass up to the byte that made it so, on top of simdjson's parse: a
// prompt whose first non-ASCII byte is near its end is read nearly twice. Validating UTF-8 here
// would remove that, at the cost of more code to keep equal to simdjson's checks.
//
// A reader gives, for an object of a role (0: an object nothing is read from):
//   int slot_of(int role, std::string_view key)   the key's slot on its first occurrence, or -1
//                                                 (keys with an escape are never offered: no key a
//                                                 reader wants has a character one stands for)
//   int child_role(int role, int slot)            the role of the value under that slot
//   bool keep(int role, int slot, const JsonScalar& value)   false: undecided
// and, for a reader that reads into arrays too (the request's messages, request_body_scan.cpp):
//   int element_role(int role)                    the role of the elements of an array of `role`
//   void element_end(int role, const JsonScalar& element)   after each element of such an array
//   void escaped_key(int role)                    a key of an object of `role` has an escape (it is
//                                                 offered to no slot)
// An array's role is child_role()'s for its slot, as an object's is.
#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include <emmintrin.h>

namespace sluice::gateway {

// What a value turned out to be, for the reader that keeps it.
struct JsonScalar {
  enum class Kind { kInteger, kString, kTrue, kFalse, kNull, kObject, kArray } kind = Kind::kNull;
  std::int64_t integer = 0;
  std::string_view text;  // a string's raw bytes, between the quotes
  bool escaped = false;   // the string holds a backslash

  bool is_integer() const { return kind == Kind::kInteger; }
  bool is_bool() const { return kind == Kind::kTrue || kind == Kind::kFalse; }
};

enum class JsonVerdict { kValid, kInvalid, kUndecided };

namespace json_scan_detail {

// Sixteen bytes at a time: bit i set when byte i is a quote, a backslash, a control character or
// 0x80 and up, the bytes a string's scan stops at.
inline unsigned special_bytes(const char* at) {
  const __m128i bytes = _mm_loadu_si128(reinterpret_cast<const __m128i*>(at));
  const __m128i quote = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('"'));
  const __m128i backslash = _mm_cmpeq_epi8(bytes, _mm_set1_epi8('\\'));
  // Signed: 0x80 and up are negative, so "less than 0x20" catches them too.
  const __m128i low_or_high = _mm_cmplt_epi8(bytes, _mm_set1_epi8(0x20));
  return static_cast<unsigned>(
      _mm_movemask_epi8(_mm_or_si128(_mm_or_si128(quote, backslash), low_or_high)));
}

}  // namespace json_scan_detail

// A string's raw bytes (JsonScalar::text) as the text they stand for, appended to `out`: only for
// a string the scan accepted, so every backslash starts one of the two-byte escapes (the scan
// leaves \u escapes to simdjson).
inline void append_unescaped(std::string& out, std::string_view raw) {
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '\\' && i + 1 < raw.size()) {
      switch (raw[++i]) {
        case 'b':
          c = '\b';
          break;
        case 'f':
          c = '\f';
          break;
        case 'n':
          c = '\n';
          break;
        case 'r':
          c = '\r';
          break;
        case 't':
          c = '\t';
          break;
        default:
          c = raw[i];
          break;  // \" \\ \/
      }
    }
    out.push_back(c);
  }
}

template <class Reader>
class JsonScan {
 public:
  JsonScan(std::string_view text, Reader& reader)
      : at_(text.data()), end_(text.data() + text.size()), reader_(reader) {}

  // The whole text, its top-level object read as `top_role`.
  JsonVerdict run(int top_role) {
    skip_space();
    if (at_ == end_ || *at_ != '{') return JsonVerdict::kUndecided;
    JsonScalar top;
    if (value(top_role, top)) {
      skip_space();
      if (at_ != end_) invalid();
    }
    return verdict_;
  }

 private:
  static constexpr int kMaxDepth = 64;
  using Scalar = JsonScalar;

  void invalid() {
    if (verdict_ == JsonVerdict::kValid) verdict_ = JsonVerdict::kInvalid;
  }
  void undecided() { verdict_ = JsonVerdict::kUndecided; }

  // Compact JSON has none: one compare and out.
  void skip_space() {
    const bool none = at_ == end_ || static_cast<unsigned char>(*at_) > ' ';
    if (none) [[likely]]
      return;
    while (at_ < end_ && (*at_ == ' ' || *at_ == '\n' || *at_ == '\r' || *at_ == '\t')) ++at_;
  }

  // At the opening quote; leaves `at_` past the closing one.
  bool string(Scalar& out) {
    const char* start = ++at_;
    while (true) {
      // Straight to the next byte that is not plain text, sixteen bytes at a time.
      while (end_ - at_ >= 16) {
        if (const auto special = json_scan_detail::special_bytes(at_)) {
          at_ += std::countr_zero(special);
          break;
        }
        at_ += 16;
      }
      if (at_ == end_) return invalid(), false;
      const auto c = static_cast<unsigned char>(*at_);
      if (c == '"') break;
      if (c >= 0x80) return undecided(), false;
      if (c < 0x20) return invalid(), false;
      if (c == '\\') {
        out.escaped = true;
        if (++at_ == end_) return invalid(), false;
        switch (*at_) {
          case '"':
          case '\\':
          case '/':
          case 'b':
          case 'f':
          case 'n':
          case 'r':
          case 't':
            break;
          case 'u':
            return undecided(), false;
          default:
            return invalid(), false;
        }
      }
      ++at_;
    }
    out.kind = Scalar::Kind::kString;
    out.text = std::string_view(start, static_cast<std::size_t>(at_ - start));
    ++at_;
    return true;
  }

  bool number(Scalar& out) {
    const bool negative = *at_ == '-';
    if (negative) ++at_;
    if (at_ == end_ || *at_ < '0' || *at_ > '9') return invalid(), false;
    if (negative && *at_ == '0') return undecided(), false;  // -0 is a double to simdjson
    std::uint64_t magnitude = 0;
    int digits = 0;
    if (*at_ == '0') {
      ++at_;
      digits = 1;
    } else {
      for (; at_ < end_ && *at_ >= '0' && *at_ <= '9'; ++at_, ++digits) {
        magnitude = magnitude * 10 + static_cast<std::uint64_t>(*at_ - '0');
      }
    }
    if (digits > 18) return undecided(), false;
    if (at_ < end_ && (*at_ == '.' || *at_ == 'e' || *at_ == 'E')) return undecided(), false;
    out.kind = Scalar::Kind::kInteger;
    out.integer =
        negative ? -static_cast<std::int64_t>(magnitude) : static_cast<std::int64_t>(magnitude);
    return true;
  }

  bool literal(std::string_view word, Scalar::Kind kind, Scalar& out) {
    if (static_cast<std::size_t>(end_ - at_) < word.size() ||
        std::memcmp(at_, word.data(), word.size()) != 0) {
      return invalid(), false;
    }
    at_ += word.size();
    out.kind = kind;
    return true;
  }

  // One value of any kind, `role` saying which keys of it to read if it is an object.
  bool value(int role, Scalar& out) {
    if (at_ == end_) return invalid(), false;
    switch (*at_) {
      case '{':
        out.kind = Scalar::Kind::kObject;
        return object(role);
      case '[':
        out.kind = Scalar::Kind::kArray;
        return array(role);
      case '"':
        return string(out);
      case 't':
        return literal("true", Scalar::Kind::kTrue, out);
      case 'f':
        return literal("false", Scalar::Kind::kFalse, out);
      case 'n':
        return literal("null", Scalar::Kind::kNull, out);
      default:
        if (*at_ == '-' || (*at_ >= '0' && *at_ <= '9')) return number(out);
        if (static_cast<unsigned char>(*at_) >= 0x80) return undecided(), false;
        return invalid(), false;
    }
  }

  // A container's elements, one `element()` call each, from its opening to its `close` byte.
  enum class Next { kElement, kClosed, kError };
  Next open(char close) {
    if (++depth_ > kMaxDepth) return undecided(), Next::kError;
    ++at_;
    skip_space();
    return close_here(close) ? Next::kClosed : Next::kElement;
  }
  // After an element: past the comma before the next, or past the closing byte.
  Next after_element(char close) {
    skip_space();
    if (at_ == end_) return invalid(), Next::kError;
    if (close_here(close)) return Next::kClosed;
    if (*at_ != ',') return invalid(), Next::kError;
    ++at_;
    skip_space();
    return Next::kElement;
  }
  bool close_here(char close) {
    if (at_ == end_ || *at_ != close) return false;
    ++at_;
    --depth_;
    return true;
  }
  template <class Element>
  bool container(char close, Element&& element) {
    for (Next next = open(close); next != Next::kClosed; next = after_element(close)) {
      if (next == Next::kError || !element()) return false;
    }
    return true;
  }

  bool array(int role) {
    int elements = 0;
    if constexpr (requires { reader_.element_role(role); }) {
      if (role != 0) elements = reader_.element_role(role);
    }
    return container(']', [&] {
      Scalar element;
      if (!value(elements, element)) return false;
      if constexpr (requires { reader_.element_end(role, element); }) {
        if (role != 0) reader_.element_end(role, element);
      }
      return true;
    });
  }

  bool object(int role) {
    return container('}', [&] {
      if (at_ == end_ || *at_ != '"') return invalid(), false;
      Scalar key;
      if (!string(key)) return false;
      skip_space();
      if (at_ == end_ || *at_ != ':') return invalid(), false;
      ++at_;
      skip_space();
      if constexpr (requires { reader_.escaped_key(role); }) {
        if (role != 0 && key.escaped) reader_.escaped_key(role);
      }
      const int slot = role == 0 || key.escaped ? -1 : reader_.slot_of(role, key.text);
      Scalar item;
      if (!value(slot >= 0 ? reader_.child_role(role, slot) : 0, item)) return false;
      if (slot >= 0 && !reader_.keep(role, slot, item)) undecided();
      return true;
    });
  }

  const char* at_;
  const char* end_;
  Reader& reader_;
  int depth_ = 0;
  JsonVerdict verdict_ = JsonVerdict::kValid;
};

}  // namespace sluice::gateway
