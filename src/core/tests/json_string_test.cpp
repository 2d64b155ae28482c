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

// The 16-byte scan against a byte-at-a-time reference: every byte value, at every position of a
// block, in strings short enough for the scalar tail and long enough for several blocks.
TEST(JsonString, TheBlockScanFindsEveryByteTheScalarOneDoes) {
  auto reference = [](std::string_view text) {
    for (std::size_t i = 0; i < text.size(); ++i) {
      const auto c = static_cast<unsigned char>(text[i]);
      if (c < 0x20 || c == '"' || c == '\\') return i;
    }
    return text.size();
  };
  for (std::size_t size : {1u, 15u, 16u, 17u, 31u, 40u}) {
    for (int byte = 0; byte < 256; ++byte) {
      for (std::size_t at = 0; at < size; ++at) {
        std::string text(size, 'a');
        text[at] = static_cast<char>(byte);
        const char* found = find_json_escape(text.data(), text.data() + text.size());
        ASSERT_EQ(static_cast<std::size_t>(found - text.data()), reference(text))
            << "byte " << byte << " at " << at << " of " << size;
      }
    }
  }
  const std::string high(40, '\xe9');  // UTF-8 continuation-range bytes are never escaped
  EXPECT_EQ(find_json_escape(high.data(), high.data() + high.size()), high.data() + high.size());
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
