#include "sim/wire.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cctype>
#include <regex>
#include <set>
#include <string>

namespace sluice::sim {
namespace {

namespace json = boost::json;

CompletionMeta meta() {
  CompletionMeta m;
  m.id = "chatcmpl-abc";
  m.created = 1700000000;
  m.model = "gpt-4o-2024-08-06";
  m.system_fingerprint = "fp_1";
  return m;
}

json::object parse_event(const std::string& sse) {
  EXPECT_EQ(sse.rfind("data: ", 0), 0u);
  EXPECT_EQ(sse.substr(sse.size() - 2), "\n\n");
  return json::parse(sse.substr(6, sse.size() - 8)).as_object();
}

TEST(Wire, ChatCompletionHasAzureFields) {
  auto body = json::parse(chat_completion_body(meta(), {{"Hi \"there\"\n", "length"}}, {10, 4}))
                  .as_object();
  EXPECT_EQ(body.at("object").as_string(), "chat.completion");
  EXPECT_EQ(body.at("model").as_string(), "gpt-4o-2024-08-06");
  auto& choice = body.at("choices").as_array().at(0).as_object();
  EXPECT_EQ(choice.at("finish_reason").as_string(), "length");
  EXPECT_TRUE(choice.at("logprobs").is_null());
  EXPECT_EQ(choice.at("message").at("content").as_string(), "Hi \"there\"\n");
  EXPECT_TRUE(choice.at("message").at("refusal").is_null());
  EXPECT_EQ(choice.at("content_filter_results").at("violence").at("severity").as_string(), "safe");
  EXPECT_EQ(body.at("prompt_filter_results").as_array().at(0).at("prompt_index").as_int64(), 0);
  auto& usage = body.at("usage").as_object();
  EXPECT_EQ(usage.at("total_tokens").as_int64(), 14);
  EXPECT_EQ(usage.at("prompt_tokens_details").at("cached_tokens").as_int64(), 0);
  EXPECT_EQ(usage.at("completion_tokens_details").at("reasoning_tokens").as_int64(), 0);
}

TEST(Wire, StreamChunks) {
  auto first = parse_event(sse_prompt_filter_chunk());
  EXPECT_TRUE(first.at("choices").as_array().empty());
  EXPECT_EQ(first.at("id").as_string(), "");
  EXPECT_TRUE(first.contains("prompt_filter_results"));
  auto role = parse_event(sse_role_chunk(meta(), 0));
  EXPECT_EQ(role.at("choices").at(0).at("delta").at("role").as_string(), "assistant");
  auto content = parse_event(sse_content_chunk(meta(), 0, " word"));
  EXPECT_EQ(content.at("choices").at(0).at("delta").at("content").as_string(), " word");
  EXPECT_TRUE(content.at("choices").at(0).at("finish_reason").is_null());
  auto fin = parse_event(sse_finish_chunk(meta(), 0, "stop"));
  EXPECT_EQ(fin.at("choices").at(0).at("finish_reason").as_string(), "stop");
  EXPECT_TRUE(fin.at("choices").at(0).at("delta").as_object().empty());
  auto usage = parse_event(sse_usage_chunk(meta(), {3, 2}));
  EXPECT_TRUE(usage.at("choices").as_array().empty());
  EXPECT_EQ(usage.at("usage").at("total_tokens").as_int64(), 5);
}

TEST(Wire, ErrorBodies) {
  auto a = json::parse(azure_error_body("404", "Resource not found")).as_object();
  EXPECT_EQ(a.at("error").at("code").as_string(), "404");
  auto o = json::parse(openai_error_body("bad", "invalid_request_error", "", "x")).as_object();
  EXPECT_TRUE(o.at("error").at("param").is_null());
  EXPECT_EQ(o.at("error").at("code").as_string(), "x");
  EXPECT_EQ(random_uuid().size(), 36u);
  EXPECT_EQ(random_id("chatcmpl-", 29).size(), 38u);
}

// The id and UUID shapes clients and the Azure SDKs see, and that every alphabet character
// turns up (a skipped index or an off-by-one in the 6-bit draws would leave one out).
TEST(Wire, RandomIdsAndUuidsHaveTheirShapes) {
  std::set<char> seen;
  std::set<std::string> ids;
  for (int i = 0; i < 2000; ++i) {
    const std::string id = random_id("chatcmpl-", 29);
    ASSERT_EQ(id.size(), 38u);
    ASSERT_EQ(id.substr(0, 9), "chatcmpl-");
    for (char c : id.substr(9)) {
      ASSERT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << id;
      seen.insert(c);
    }
    ids.insert(id);
  }
  EXPECT_EQ(seen.size(), 62u);
  EXPECT_EQ(ids.size(), 2000u);
  EXPECT_EQ(random_id("", 0), "");
  EXPECT_EQ(random_id("x-", 1).size(), 3u);

  const std::regex uuid("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  std::set<std::string> uuids;
  for (int i = 0; i < 1000; ++i) {
    const std::string u = random_uuid();
    ASSERT_TRUE(std::regex_match(u, uuid)) << u;
    uuids.insert(u);
  }
  EXPECT_EQ(uuids.size(), 1000u);
  // Every random digit takes every value over 1,000 UUIDs (the chance that one of sixteen is
  // missing at a place is below 1e-26); the variant digit takes its four.
  for (std::size_t place = 0; place < 36; ++place) {
    if (place == 8 || place == 13 || place == 14 || place == 18 || place == 23) continue;
    std::set<char> values;
    for (const auto& u : uuids) values.insert(u[place]);
    EXPECT_EQ(values.size(), place == 19 ? 4u : 16u) << "place " << place;
  }
}

TEST(Wire, EmbeddingsBody) {
  auto b = json::parse(embeddings_body("text-embedding-3-small", {{0.5f, -0.25f}}, false, 7))
               .as_object();
  EXPECT_EQ(b.at("object").as_string(), "list");
  EXPECT_EQ(b.at("data").at(0).at("embedding").at(1).as_double(), -0.25);
  EXPECT_EQ(b.at("usage").at("prompt_tokens").as_int64(), 7);
}

}  // namespace
}  // namespace sluice::sim
