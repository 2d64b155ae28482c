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

// The DOM parse (bodies the one-pass scan leaves to simdjson) keeps its document for the policies
// that read more of the body; a scanned body keeps none (request_body_scan_test.cpp).
TEST(RequestBody, ItsDocumentStaysFoundUntilTheNextParseOnTheWorker) {
  JsonScratch scratch;
  RequestBodyInfo info;
  ASSERT_EQ(inspect_request_body_by_dom(R"({"model": "a", "messages": []})", scratch, info),
            std::nullopt);
  ASSERT_EQ(info.document_source, &scratch);
  auto document = scratch.document(info.document_generation);
  ASSERT_TRUE(document);
  std::string_view model;
  ASSERT_EQ((*document)["model"].get(model), simdjson::SUCCESS);
  EXPECT_EQ(model, "a");

  // Another request's body parsed on the same worker replaces it: the first request must not read
  // the second one's fields.
  RequestBodyInfo other;
  ASSERT_EQ(inspect_request_body_by_dom(R"({"model": "b"})", scratch, other), std::nullopt);
  EXPECT_FALSE(scratch.document(info.document_generation));
  ASSERT_TRUE(scratch.document(other.document_generation));
  // So does a parse that fails (a broken stream chunk), and a body that is not an object leaves
  // no document to find.
  EXPECT_FALSE(scratch.parse("{").error() == simdjson::SUCCESS);
  EXPECT_FALSE(scratch.document(other.document_generation));
  EXPECT_FALSE(scratch.document(scratch.generation()));
  RequestBodyInfo not_object;
  EXPECT_TRUE(inspect_request_body_by_dom("[1]", scratch, not_object));
  EXPECT_EQ(not_object.document_source, nullptr);
}

}  // namespace
}  // namespace sluice::gateway
