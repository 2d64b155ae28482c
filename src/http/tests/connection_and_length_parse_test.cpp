// Beast's parser on sluice's copy of its field handling (src/http/beast_basic_parser_impl.ipp):
// the Connection and Content-Length values decided at once give what Beast's token lists gave,
// and every other value still takes Beast's own path.
#include <gtest/gtest.h>

// Before Beast, as in every file (sluice/http/asio_short_read.hpp says why).
#include "sluice/http/asio.hpp"

#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <optional>
#include <string>

namespace sluice::http {

// True; defined in src/http/beast_basic_parser_impl.ipp, so that this test fails to link if
// Beast's own impl/basic_parser.ipp were compiled in its place.
bool beast_parser_decides_framing_at_once() noexcept;

namespace {

struct Parsed {
  beast::error_code ec;
  bool keep_alive = false;
  std::optional<std::uint64_t> content_length;
  std::string body;
};

// An answer's head (fields given, each line ending in CRLF) and body, parsed in one piece.
Parsed parse_response(const std::string& version, const std::string& fields,
                      const std::string& body) {
  const std::string text = "HTTP/" + version + " 200 OK\r\n" + fields + "\r\n" + body;
  ResponseParser<bhttp::string_body> parser;
  parser.eager(true);
  Parsed parsed;
  parser.put(asio::buffer(text), parsed.ec);
  if (parsed.ec == bhttp::error::need_more) parsed.ec = {};
  if (!parsed.ec && parser.is_header_done()) {
    parsed.keep_alive = parser.get().keep_alive();
    if (const auto length = parser.content_length()) parsed.content_length = *length;
    parsed.body = parser.get().body();
  }
  return parsed;
}

TEST(ConnectionAndLengthParse, ConnectionKeepAliveOrCloseInAnyCase) {
  EXPECT_TRUE(beast_parser_decides_framing_at_once());
  for (const char* value : {"keep-alive", "Keep-Alive", "KEEP-ALIVE", "keep-alive   "}) {
    const auto parsed = parse_response("1.0", std::string("Connection: ") + value + "\r\n", "");
    ASSERT_FALSE(parsed.ec) << value << ": " << parsed.ec.message();
    EXPECT_TRUE(parsed.keep_alive) << value << " keeps an HTTP/1.0 connection open";
  }
  for (const char* value : {"close", "Close", "CLOSE", "  close"}) {
    const auto parsed = parse_response("1.1", std::string("Connection: ") + value + "\r\n", "");
    ASSERT_FALSE(parsed.ec) << value << ": " << parsed.ec.message();
    EXPECT_FALSE(parsed.keep_alive) << value << " closes an HTTP/1.1 connection";
  }
}

TEST(ConnectionAndLengthParse, OtherConnectionValuesTakeBeastsTokenList) {
  EXPECT_TRUE(parse_response("1.0", "Connection: keep-alive, Upgrade\r\n", "").keep_alive);
  EXPECT_FALSE(parse_response("1.1", "Connection: Upgrade, close\r\n", "").keep_alive);
  EXPECT_FALSE(parse_response("1.1", "Connection: ,close\r\n", "").keep_alive);
  EXPECT_FALSE(parse_response("1.1", "Connection: closed\r\n", "").ec);
  EXPECT_TRUE(parse_response("1.1", "Connection: closed\r\n", "").keep_alive);
  EXPECT_FALSE(parse_response("1.0", "Connection: keep-alives\r\n", "").keep_alive);
  EXPECT_FALSE(parse_response("1.0", "", "").keep_alive);
  EXPECT_EQ(parse_response("1.1", "Connection: keep alive\r\n", "").ec, bhttp::error::bad_value);
}

TEST(ConnectionAndLengthParse, ADigitsOnlyContentLengthIsTheBodysLength) {
  auto parsed = parse_response("1.1", "Content-Length: 5\r\n", "hello");
  ASSERT_FALSE(parsed.ec) << parsed.ec.message();
  EXPECT_EQ(parsed.content_length, 5u);
  EXPECT_EQ(parsed.body, "hello");
  parsed = parse_response("1.1", "Content-Length: 0\r\n", "");
  ASSERT_FALSE(parsed.ec);
  EXPECT_EQ(parsed.content_length, 0u);
  parsed = parse_response("1.1", "Content-Length: 007\r\n", "1234567");
  ASSERT_FALSE(parsed.ec);
  EXPECT_EQ(parsed.body, "1234567");
  parsed = parse_response("1.1", "Content-Length: 5\r\nContent-Length: 5\r\n", "hello");
  ASSERT_FALSE(parsed.ec) << "the same length twice is one length";
  EXPECT_EQ(parsed.body, "hello");
  parsed = parse_response("1.1", "Content-Length: 5, 5\r\n", "hello");
  ASSERT_FALSE(parsed.ec) << "a list of one length, through Beast's path";
  EXPECT_EQ(parsed.content_length, 5u);
}

TEST(ConnectionAndLengthParse, ContentLengthsThatDisagreeOrAreNotNumbersAreRefused) {
  EXPECT_EQ(parse_response("1.1", "Content-Length: 5\r\nContent-Length: 6\r\n", "hello").ec,
            bhttp::error::multiple_content_length);
  EXPECT_EQ(parse_response("1.1", "Content-Length: 5, 6\r\n", "hello").ec,
            bhttp::error::multiple_content_length);
  for (const char* value : {"12a", "-1", "+5", "", "99999999999999999999", "5 5", "0x5"}) {
    EXPECT_EQ(parse_response("1.1", std::string("Content-Length: ") + value + "\r\n", "").ec,
              bhttp::error::bad_content_length)
        << "Content-Length: " << value;
  }
  EXPECT_EQ(
      parse_response("1.1", "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n", "hello").ec,
      bhttp::error::bad_content_length);
  EXPECT_EQ(
      parse_response("1.1", "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n", "hello").ec,
      bhttp::error::bad_transfer_encoding);
}

}  // namespace
}  // namespace sluice::http
