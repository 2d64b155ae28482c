#include "gateway/request_body.hpp"

#include <gtest/gtest.h>

namespace sluice::gateway {
namespace {

std::optional<std::string> inspect(std::string_view body, RequestBodyInfo& info) {
  JsonScratch scratch;
  return inspect_request_body(body, scratch, info);
}

TEST(RequestBody, MalformedJsonNamesTheByteWhereItBreaks) {
  RequestBodyInfo info;
  EXPECT_EQ(inspect(R"({"model": gpt-4o})", info),
            "The request body is not valid JSON: syntax error at byte 10.");
  EXPECT_EQ(inspect(R"({"messages": [)", info),
            "The request body is not valid JSON: unexpected end of input at byte 14.");
  EXPECT_FALSE(info.parsed);
}

TEST(RequestBody, ReadsTheFieldsOfAnObject) {
  RequestBodyInfo info;
  EXPECT_EQ(inspect(R"([1, 2])", info), "The request body must be a JSON object.");
  ASSERT_EQ(inspect(R"({"model": "gpt-4o", "stream": true, "max_tokens": 7})", info), std::nullopt);
  EXPECT_TRUE(info.parsed);
  EXPECT_EQ(info.model, "gpt-4o");
  EXPECT_TRUE(info.stream);
  EXPECT_EQ(info.max_tokens, 7);
}

}  // namespace
}  // namespace sluice::gateway
