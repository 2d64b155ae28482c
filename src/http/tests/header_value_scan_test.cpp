#include "http/header_value_scan.hpp"

#include <gtest/gtest.h>

// Before Beast, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

#include "http/tests/parse_in_two.hpp"

#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <string>

namespace sluice::http {
namespace {

bool ends_a_value(unsigned char c) {
  return (c < 0x20 && c != 0x09) || c == 0x7f;
}

// Beast's is_pathchar(), negated: control characters, SP and DEL.
bool ends_a_target(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

// A scan against the rule it implements, byte by byte: every byte value at every position of
// buffers long enough for the sixteen-byte steps and the tail, from every start.
template <class Scan, class Ends>
void expect_scan_finds_every_end(Scan scan, Ends ends) {
  std::string text(40, 'a');
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at = 0; at < text.size(); ++at) {
      std::string buffer = text;
      buffer[at] = static_cast<char>(b);
      for (std::size_t start = 0; start <= at; start += 5) {
        const char* end = buffer.data() + buffer.size();
        const char* expected = ends(static_cast<unsigned char>(b)) ? buffer.data() + at : end;
        ASSERT_EQ(scan(buffer.data() + start, end), expected)
            << "byte " << b << " at " << at << " from " << start;
      }
    }
  }
  const char* nothing = "";
  EXPECT_EQ(scan(nothing, nothing), nothing);
}

TEST(HeaderValueScan, FindsTheFirstByteThatEndsAValueAnywhere) {
  expect_scan_finds_every_end(find_header_value_end, ends_a_value);
}

TEST(HeaderValueScan, FindsTheFirstByteThatEndsARequestTargetAnywhere) {
  expect_scan_finds_every_end(find_request_target_end, ends_a_target);
}

// Beast's request-line parser runs on the scan: a target holding any byte, anywhere, whole or
// split, is taken or refused as is_pathchar() says. A SP ends the target early, and what follows
// is then not a version.
TEST(HeaderValueScan, BeastTakesOrRefusesEveryByteInARequestTargetAsBefore) {
  const std::string target_text = "/openai/deployments/gpt-4o-mini/chat/completions?api-version=1";
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at : {1u, 7u, 15u, 16u, 17u, 31u, 33u, 60u}) {
      std::string target = target_text;
      target[at] = static_cast<char>(b);
      const std::string request = "POST " + target + " HTTP/1.1\r\nHost: x\r\n\r\n";
      for (std::size_t split : {request.size(), std::size_t{5} + at, std::size_t{6} + at}) {
        RequestParser<bhttp::empty_body> parser;
        const beast::error_code ec = parse_in_two(parser, request, split);
        if (ends_a_target(static_cast<unsigned char>(b))) {
          EXPECT_TRUE(ec) << "byte " << b << " at " << at << " split " << split;
        } else {
          ASSERT_FALSE(ec) << "byte " << b << " at " << at << " split " << split << ": "
                           << ec.message();
          EXPECT_EQ(parser.get().target(), target);
        }
      }
    }
  }
}

// Beast's header parser runs on the scan (src/http/beast_basic_parser.ipp): a header value
// holding any byte is taken whole or refused as Beast's own loop did, whole or in two pieces.
TEST(HeaderValueScan, BeastTakesOrRefusesEveryByteInAHeaderValueAsBefore) {
  EXPECT_TRUE(beast_parser_scans_values_fast());
  const std::string value_text(120, 'v');
  for (int b = 0; b < 256; ++b) {
    for (std::size_t at : {1u, 7u, 15u, 16u, 17u, 31u, 33u, 100u}) {
      std::string value = value_text;
      value[at] = static_cast<char>(b);
      const std::string request =
          "GET / HTTP/1.1\r\nHost: x\r\nX-Token: " + value + "\r\nAccept: */*\r\n\r\n";
      for (std::size_t split : {request.size(), std::size_t{40}, std::size_t{40} + at}) {
        RequestParser<bhttp::empty_body> parser;
        const beast::error_code ec = parse_in_two(parser, request, split);
        if (ends_a_value(static_cast<unsigned char>(b))) {
          EXPECT_TRUE(ec) << "byte " << b << " at " << at << " split " << split;
        } else {
          ASSERT_FALSE(ec) << "byte " << b << " at " << at << " split " << split << ": "
                           << ec.message();
          EXPECT_TRUE(parser.is_header_done());
          EXPECT_EQ(parser.get()["X-Token"], value);
          EXPECT_EQ(parser.get()["Accept"], "*/*");
        }
      }
    }
  }
}

}  // namespace
}  // namespace sluice::http
