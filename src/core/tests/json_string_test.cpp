#include "sluice/core/json_string.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>

namespace sluice::core {
namespace {

std::string as_json(std::string_view text) {
  std::string out;
  append_json_string(out, text);
  return out;
}

TEST(JsonString, EscapesWhatJsonRequires) {
  EXPECT_EQ(as_json(""), "\"\"");
  EXPECT_EQ(as_json("plain"), "\"plain\"");
  EXPECT_EQ(as_json("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(as_json("l1\nl2\r\t"), "\"l1\\nl2\\r\\t\"");
  EXPECT_EQ(as_json(std::string_view("\x01\x1f", 2)), "\"\\u0001\\u001f\"");
  EXPECT_EQ(as_json("caf\xc3\xa9"), "\"caf\xc3\xa9\"");
}

TEST(JsonString, EveryByteRoundTripsThroughAJsonParser) {
  std::string all;
  for (int c = 1; c < 0x80; ++c) all += static_cast<char>(c);
  all += std::string(1, '\0');
  auto parsed = boost::json::parse(as_json(all));
  EXPECT_EQ(parsed.as_string(), all);
}

}  // namespace
}  // namespace sluice::core
