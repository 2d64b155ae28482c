#pragma once
// One line of a JMeter CSV results file (JTL), written through a pointer into space sized for it
// beforehand. The load generator writes a line for every sample; as std::string appends (nine
// numbers, six text columns, sixteen separators, each append checking capacity and calling
// memcpy) the line was ~2,000 instructions, a tenth of a sample (docs/performance.md).
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sluice/core/find_any_byte.hpp"

namespace sluice::loadgen {

class JtlLine {
 public:
  // Room for every number column, the separators and the fixed words of a line; the text
  // columns' room comes from csv_room() of each.
  static constexpr std::size_t kNumberRoom = 20;  // "-9223372036854775808"
  static constexpr std::size_t kFixedRoom = 9 * kNumberRoom + 64;

  // At most what csv() writes for `value`: every byte a doubled quote, and the two around it.
  static constexpr std::size_t csv_room(std::string_view value) { return 2 * value.size() + 2; }

  explicit JtlLine(char* at) : at_(at) {}

  void byte(char c) { *at_++ = c; }
  void text(std::string_view value) {
    std::memcpy(at_, value.data(), value.size());
    at_ += value.size();
  }
  void number(std::int64_t value) { at_ = std::to_chars(at_, at_ + kNumberRoom, value).ptr; }
  // A CSV field as JMeter writes one: quoted, with quotes doubled, only when it holds a comma,
  // a quote or a line break.
  void csv(std::string_view value) {
    if (core::find_any_byte(value, ",\"\n\r") == std::string_view::npos) {
      text(value);
      return;
    }
    byte('"');
    for (char c : value) {
      if (c == '"') byte('"');
      byte(c);
    }
    byte('"');
  }

  char* end() const { return at_; }

 private:
  char* at_;
};

}  // namespace sluice::loadgen
