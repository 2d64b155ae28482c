#include "sluice/core/json_syntax_error.hpp"

#include <gtest/gtest.h>

namespace sluice::core {
namespace {

TEST(JsonSyntaxError, NamesTheOffendingByte) {
  EXPECT_EQ(locate_json_syntax_error(R"({"model": gpt-4o})"), "syntax error at byte 10");
  EXPECT_EQ(locate_json_syntax_error("{\n  \"a\": 1,,\n}"), "syntax error at byte 11");
}

TEST(JsonSyntaxError, ATruncatedBodyEndsAtItsLength) {
  EXPECT_EQ(locate_json_syntax_error(R"({"messages": [)"), "unexpected end of input at byte 14");
  EXPECT_EQ(locate_json_syntax_error(""), "unexpected end of input at byte 0");
}

TEST(JsonSyntaxError, ValidJsonHasNoPosition) {
  EXPECT_EQ(locate_json_syntax_error(R"({"a": [1, 2]})"), std::nullopt);
}

}  // namespace
}  // namespace sluice::core
