#include "http/header_name_scan.hpp"

#include <gtest/gtest.h>

// Before Beast, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

#include "http/tests/parse_in_two.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cctype>
#include <string>
#include <string_view>

namespace sluice::http {
namespace {

bool plain(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

// RFC 9110's tchar: what Beast's own loop accepts in a field name.
bool token(unsigned char c) {
  return plain(c) || (c != 0 && std::string_view("!#$%&'*+.^_`|~").find(static_cast<char>(c)) !=
                                    std::string_view::npos);
}

// The scan against its contract, for every byte value at every position of a buffer long enough
// for several sixteen-byte steps, from several starts: everything skipped is plain, and it stops
// at the first byte that is not, unless fewer than sixteen bytes were left to look at.
TEST(HeaderNameScan, SkipsOnlyPlainBytesAndStopsAtTheFirstOther) {
  const std::string text(40, 'x');
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at = 0; at < text.size(); ++at) {
      std::string buffer = text;
      buffer[at] = static_cast<char>(b);
      for (std::size_t start = 0; start <= at; start += 3) {
        const char* begin = buffer.data() + start;
        const char* end = buffer.data() + buffer.size();
        const char* stop = skip_plain_header_name(begin, end);
        ASSERT_LE(stop, end);
        for (const char* q = begin; q < stop; ++q) {
          ASSERT_TRUE(plain(static_cast<unsigned char>(*q)))
              << "byte " << b << " at " << at << " from " << start << " skipped";
        }
        const bool stopped_at_it =
            stop == buffer.data() + at && !plain(static_cast<unsigned char>(b));
        const bool ran_short = end - stop < 16;
        ASSERT_TRUE(stopped_at_it || ran_short) << "byte " << b << " at " << at << " from " << start
                                                << " stopped at " << (stop - buffer.data());
        const std::size_t step_start = start + (at - start) / 16 * 16;
        if (!plain(static_cast<unsigned char>(b)) && step_start + 16 <= buffer.size()) {
          // The byte is in a whole sixteen-byte step from `start`: the scan must find it.
          EXPECT_EQ(stop, buffer.data() + at) << "byte " << b << " at " << at << " from " << start;
        }
      }
    }
  }
  const char* nothing = "";
  EXPECT_EQ(skip_plain_header_name(nothing, nothing), nothing);
}

// Beast's parser on the scan (src/http/beast_basic_parser.ipp): a name holding any byte, at any
// place, whole or split, is taken or refused as Beast's own loop did: a token character is part
// of the name, a ':' ends it, anything else is a bad field.
TEST(HeaderNameScan, BeastTakesOrRefusesEveryByteInAFieldNameAsBefore) {
  const std::string name_text = "X-Very-Long-Header-Name-For-Sixteen-Byte-Steps";
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at : {0u, 1u, 7u, 15u, 16u, 17u, 31u, 33u, 40u}) {
      std::string name = name_text;
      name[at] = static_cast<char>(b);
      const std::string request =
          "GET / HTTP/1.1\r\nHost: x\r\n" + name + ": v\r\nAccept: */*\r\n\r\n";
      const std::size_t name_at = request.find(name);
      for (std::size_t split : {request.size(), name_at + 5, name_at + at, name_at + at + 1}) {
        RequestParser<bhttp::empty_body> parser;
        const beast::error_code ec = parse_in_two(parser, request, split);
        const auto c = static_cast<unsigned char>(b);
        const std::string context = "byte " + std::to_string(b) + " at " + std::to_string(at) +
                                    " split " + std::to_string(split);
        if (at == 0 && (c == ' ' || c == '\t')) {
          // Not a name at all: a line that starts with white space folds into the previous
          // field's value (obs-fold), which Beast takes.
          EXPECT_FALSE(ec) << context << ": " << ec.message();
        } else if (c == ':') {
          if (at == 0) {
            EXPECT_TRUE(ec) << context << ": an empty name";
          } else {
            ASSERT_FALSE(ec) << context << ": " << ec.message();
            EXPECT_EQ(parser.get().count(name.substr(0, at)), 1u) << context;
          }
        } else if (token(c)) {
          ASSERT_FALSE(ec) << context << ": " << ec.message();
          EXPECT_EQ(parser.get()[name], "v") << context;
          EXPECT_EQ(parser.get()["Accept"], "*/*") << context;
        } else {
          EXPECT_TRUE(ec) << context;
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::http
