#pragma once
// A Redis command's keys or arguments, written in the form Redis reads them (RESP bulk strings,
// "$<length>\r\n<bytes>\r\n") as they are added, into one buffer.
//
// A reservation's part of a batched script call (redis_client.hpp, eval_batched) was two vectors
// of strings: two keys of ~40 bytes, each a heap string built anew for every request, and four
// numbers turned into strings, all copied once more when the command was written. Here the numbers
// go straight in as text, a key that a thread keeps already written (written()) is one copy, and
// the connection copies each part's buffer whole.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace sluice::gateway::token_limit {

// The most a bulk string's head takes: '$', a length of up to 20 digits, CRLF.
inline constexpr std::size_t kBulkHeadBytes = 1 + 20 + 2;

// "$<length>\r\n", the head of a bulk string, written at `at` (kBulkHeadBytes of room); returns
// its end. RespStrings and the connection's command writer both write heads with it.
inline char* write_bulk_head(char* at, std::size_t length) {
  *at++ = '$';
  at = std::to_chars(at, at + kBulkHeadBytes - 3, length).ptr;
  *at++ = '\r';
  *at++ = '\n';
  return at;
}

class RespStrings {
 public:
  void reserve(std::size_t bytes) { bytes_.reserve(bytes); }

  void add(std::string_view text) {
    char head[kBulkHeadBytes];
    bytes_.append(head, static_cast<std::size_t>(write_bulk_head(head, text.size()) - head));
    bytes_.append(text);
    bytes_.append("\r\n", 2);
    ++count_;
  }

  // The number's decimal text, head and all written in one piece: a reservation adds six.
  void add(std::int64_t number) {
    char digits[kNumberBytes];
    char* first = digits + sizeof digits;
    // Unsigned, so the most negative number has a magnitude too.
    std::uint64_t magnitude =
        number < 0 ? ~static_cast<std::uint64_t>(number) + 1 : static_cast<std::uint64_t>(number);
    do {
      *--first = static_cast<char>('0' + magnitude % 10);
      magnitude /= 10;
    } while (magnitude != 0);
    if (number < 0) *--first = '-';
    const auto length = static_cast<std::size_t>(digits + sizeof digits - first);
    char text[kBulkHeadBytes + kNumberBytes + 2];  // head, digits, CRLF
    char* at = write_bulk_head(text, length);
    std::memcpy(at, first, length);
    at += length;
    *at++ = '\r';
    *at++ = '\n';
    bytes_.append(text, static_cast<std::size_t>(at - text));
    ++count_;
  }

  // `count` strings already written (what written() returns, or several of them one after
  // another): copied as they are.
  void add_written(std::string_view resp, std::size_t count = 1) {
    bytes_.append(resp);
    count_ += count;
  }

  // `text` or `number` as add() writes it, to keep and pass to add_written().
  static std::string written(std::string_view text) {
    RespStrings one;
    one.add(text);
    return std::move(one.bytes_);
  }
  static std::string written(std::int64_t number) {
    RespStrings one;
    one.add(number);
    return std::move(one.bytes_);
  }

  std::size_t count() const { return count_; }
  std::string_view bytes() const { return bytes_; }

 private:
  static constexpr std::size_t kNumberBytes = 20;  // digits and sign of an int64

  std::string bytes_;
  std::size_t count_ = 0;
};

}  // namespace sluice::gateway::token_limit
