#include "gateway/policies/cache/answer_codec.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sluice::gateway::cache {
namespace {

namespace json = boost::json;

constexpr std::string_view kBody = R"({"id":"chatcmpl-1","object":"chat.completion",
  "created":1700000000,"model":"gpt-4o-2024-08-06","choices":[{"index":0,
  "message":{"role":"assistant","content":"Hello there, how can I help you today? — fine ✓"},
  "logprobs":null,"finish_reason":"stop"}],
  "usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}})";

std::vector<json::object> events_of(const std::string& sse, bool* done) {
  std::vector<json::object> events;
  std::size_t at = 0;
  *done = false;
  while (at < sse.size()) {
    auto end = sse.find("\n\n", at);
    EXPECT_NE(end, std::string::npos) << "event without its blank line";
    if (end == std::string::npos) break;
    auto line = sse.substr(at, end - at);
    EXPECT_TRUE(line.starts_with("data: ")) << line;
    auto data = line.substr(6);
    if (data == "[DONE]") {
      *done = true;
      EXPECT_EQ(end + 2, sse.size()) << "[DONE] is last";
    } else {
      events.push_back(json::parse(data).as_object());
    }
    at = end + 2;
  }
  return events;
}

TEST(AnswerCodec, KeepsAWholeAnswerThatStopped) {
  std::string why;
  auto a = answer_from_body(kBody, false, why);
  ASSERT_TRUE(a) << why;
  EXPECT_EQ(a->total_tokens, 21);
  EXPECT_EQ(a->model, "gpt-4o-2024-08-06");
}

TEST(AnswerCodec, RefusesErrorsFiltersAndToolCalls) {
  std::string why;
  EXPECT_FALSE(answer_from_body(R"({"error":{"message":"x"}})", false, why));
  EXPECT_FALSE(answer_from_body("not json", false, why));
  EXPECT_FALSE(answer_from_body(
      R"({"choices":[{"index":0,"message":{"content":""},"finish_reason":"content_filter"}]})",
      false, why));
  EXPECT_EQ(why, "a content-filter hit");
  std::string tools = R"({"choices":[{"index":0,"message":{"role":"assistant","content":null,
      "tool_calls":[{"id":"c1","type":"function","function":{"name":"f","arguments":"{}"}}]},
      "finish_reason":"tool_calls"}]})";
  EXPECT_FALSE(answer_from_body(tools, false, why));
  EXPECT_EQ(why, "a tool call");
  EXPECT_TRUE(answer_from_body(tools, true, why));
  EXPECT_FALSE(answer_from_body(R"({"choices":[{"index":0,"message":{},"finish_reason":null}]})",
                                false, why));
  EXPECT_TRUE(answer_from_body(
      R"({"choices":[{"index":0,"message":{"content":"a"},"finish_reason":"length"}]})", false,
      why));
}

TEST(AnswerCodec, RenderedStreamCarriesTheWholeAnswer) {
  std::string why;
  auto a = answer_from_body(kBody, false, why);
  ASSERT_TRUE(a);
  for (bool include_usage : {false, true}) {
    bool done = false;
    auto events = events_of(render_stream(*a, include_usage), &done);
    EXPECT_TRUE(done);
    std::string text;
    std::string finish;
    bool usage_seen = false;
    for (const auto& e : events) {
      EXPECT_EQ(e.at("object"), "chat.completion.chunk");
      EXPECT_EQ(e.at("id"), "chatcmpl-1");
      const auto& choices = e.at("choices").as_array();
      if (choices.empty()) {
        usage_seen = true;
        EXPECT_EQ(e.at("usage").at("total_tokens").as_int64(), 21);
        continue;
      }
      const auto& delta = choices[0].at("delta").as_object();
      if (auto* c = delta.if_contains("content")) text += c->as_string();
      if (!choices[0].at("finish_reason").is_null()) {
        finish = choices[0].at("finish_reason").as_string();
      }
    }
    EXPECT_EQ(text, "Hello there, how can I help you today? — fine ✓");
    EXPECT_EQ(finish, "stop");
    EXPECT_EQ(usage_seen, include_usage);
    EXPECT_GT(events.size(), 4u);  // re-chunked, not one piece
  }
}

TEST(AnswerCodec, AStreamPutBackTogetherRoundTrips) {
  std::string why;
  auto a = answer_from_body(kBody, false, why);
  ASSERT_TRUE(a);
  bool done = false;
  auto sse = render_stream(*a, true);
  std::vector<std::string> payloads;
  // Azure sends a prompt_filter_results chunk first, with an empty id and model.
  payloads.push_back(R"({"choices":[],"created":0,"id":"","model":"","object":"",
                         "prompt_filter_results":[]})");
  for (const auto& e : events_of(sse, &done)) payloads.push_back(json::serialize(e));
  auto back = answer_from_stream(payloads, false, why);
  ASSERT_TRUE(back) << why;
  EXPECT_EQ(json::parse(back->body), json::parse(kBody));
  EXPECT_EQ(back->total_tokens, 21);
}

TEST(AnswerCodec, StreamedToolCallsAreJoined) {
  std::vector<std::string> payloads = {
      R"({"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant",
          "tool_calls":[{"index":0,"id":"c1","type":"function","function":{"name":"f",
          "arguments":"{\"a\""}}]},"finish_reason":null}]})",
      R"({"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"tool_calls":[
          {"index":0,"function":{"arguments":":1}"}}]},"finish_reason":null}]})",
      R"({"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{},
          "finish_reason":"tool_calls"}]})"};
  std::string why;
  EXPECT_FALSE(answer_from_stream(payloads, false, why));
  auto a = answer_from_stream(payloads, true, why);
  ASSERT_TRUE(a) << why;
  auto body = json::parse(a->body);
  EXPECT_EQ(
      body.at("choices").at(0).at("message").at("tool_calls").at(0).at("function").at("arguments"),
      "{\"a\":1}");
}

TEST(AnswerCodec, AStreamWithoutUsageTakesTheGatewaysEstimate) {
  std::vector<std::string> payloads = {
      R"({"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"Hi"},
          "finish_reason":"stop"}]})"};
  std::string why;
  auto bare = answer_from_stream(payloads, false, why);
  ASSERT_TRUE(bare);
  EXPECT_FALSE(json::parse(bare->body).as_object().contains("usage"));
  TokenUsage estimate{.prompt_tokens = 5,
                      .completion_tokens = 1,
                      .total_tokens = 6,
                      .source = UsageSource::kEstimated};
  auto a = answer_from_stream(payloads, false, why, &estimate);
  ASSERT_TRUE(a);
  EXPECT_EQ(json::parse(a->body).at("usage").at("total_tokens"), 6);
  EXPECT_EQ(a->total_tokens, 6);
  EXPECT_EQ(first_content(*a), "Hi");
}

TEST(AnswerCodec, AStreamThatNeverFinishedIsNotKept) {
  std::vector<std::string> payloads = {
      R"({"id":"x","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"par"},
          "finish_reason":null}]})"};
  std::string why;
  EXPECT_FALSE(answer_from_stream(payloads, false, why));
  EXPECT_FALSE(answer_from_stream({"{broken"}, false, why));
}

}  // namespace
}  // namespace sluice::gateway::cache
