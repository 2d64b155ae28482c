#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/request_body.hpp"
#include "gateway/usage_extraction.hpp"

namespace sluice::gateway {
namespace {

TEST(UsageExtraction, ReadsUsageAndDetailsFromAWholeResponse) {
  JsonScratch scratch;
  TokenUsage usage;
  std::string model;
  std::string body = R"({"id":"x","model":"gpt-4o-2024-08-06","choices":[],
    "usage":{"completion_tokens":7,"prompt_tokens":12,"total_tokens":19,
             "prompt_tokens_details":{"cached_tokens":4},
             "completion_tokens_details":{"reasoning_tokens":2}}})";
  ASSERT_TRUE(extract_usage(body, scratch, usage, model));
  EXPECT_EQ(usage.prompt_tokens, 12);
  EXPECT_EQ(usage.completion_tokens, 7);
  EXPECT_EQ(usage.total_tokens, 19);
  EXPECT_EQ(usage.cached_tokens, 4);
  EXPECT_EQ(usage.reasoning_tokens, 2);
  EXPECT_EQ(usage.source, UsageSource::kReported);
  EXPECT_EQ(model, "gpt-4o-2024-08-06");
}

// Keys in any order, a repeated key read as its first occurrence (as a lookup by key reads it),
// nested objects with the same key names left alone, and details that are absent leave the
// counts they would set untouched.
TEST(UsageExtraction, ReadsEachKeyOnceInAnyOrder) {
  JsonScratch scratch;
  TokenUsage usage;
  usage.cached_tokens = 3;  // e.g. from an earlier chunk
  std::string model;
  std::string body = R"({"usage":{"total_tokens":30,"extra":{"prompt_tokens":99},
    "prompt_tokens":10,"completion_tokens":20,"prompt_tokens":77},
    "choices":[{"message":{"model":"nested"}}],"model":"first","model":"second","usage":{}})";
  ASSERT_TRUE(extract_usage(body, scratch, usage, model));
  EXPECT_EQ(usage.prompt_tokens, 10);
  EXPECT_EQ(usage.completion_tokens, 20);
  EXPECT_EQ(usage.total_tokens, 30);
  EXPECT_EQ(usage.cached_tokens, 3);
  EXPECT_EQ(usage.reasoning_tokens, 0);
  EXPECT_EQ(model, "first");

  TokenUsage other;
  EXPECT_FALSE(extract_usage(R"(["usage",{"usage":{}}])", scratch, other, model));  // not an object
  EXPECT_TRUE(extract_usage(R"({"usage":{}})", scratch, other, model));
  EXPECT_EQ(other.total_tokens, 0);
}

TEST(UsageExtraction, NoUsageInGarbageOrErrors) {
  JsonScratch scratch;
  TokenUsage usage;
  std::string model;
  EXPECT_FALSE(extract_usage("{\"error\":{\"code\":\"429\"}}", scratch, usage, model));
  EXPECT_FALSE(extract_usage("{\"usage\":", scratch, usage, model));
  EXPECT_FALSE(extract_usage("", scratch, usage, model));
}

// A body that is not complete JSON gives nothing, even when the usage came before the fault, and
// the model and counts it had are kept. Values of another type count as 0. (Written for a
// forward-pass reader that was tried and not kept: whatever reads responses must hold to this.)
TEST(UsageExtraction, IncompleteOrMalformedResponsesChangeNothing) {
  JsonScratch scratch;
  const std::string usage_first =
      R"({"model":"m","usage":{"prompt_tokens":5,"completion_tokens":1})";
  for (const std::string& bad : std::vector<std::string>{
           usage_first, usage_first + ",", usage_first + ",\"choices\":[",
           usage_first + "} trailing", usage_first + "}}",
           R"({"model":"m","usage":{"prompt_tokens":5,}})",
           R"({"model":"m","usage":{"prompt_tokens":5x}})", R"({"model":"m\q","usage":{}})",
           R"({"usage":{"prompt_tokens_details":{"cached_tokens":}}})", "{\"usage\":{\"prompt"}) {
    TokenUsage usage;
    usage.prompt_tokens = 42;
    std::string model = "before";
    EXPECT_FALSE(extract_usage(bad, scratch, usage, model)) << bad;
    EXPECT_EQ(usage.prompt_tokens, 42) << bad;
    EXPECT_EQ(usage.source, UsageSource::kNone) << bad;
    EXPECT_EQ(model, "before") << bad;
  }

  TokenUsage usage;
  usage.prompt_tokens = 42;
  std::string model;
  ASSERT_TRUE(extract_usage(
      R"({"usage":{"prompt_tokens":"12","completion_tokens":2.5,"total_tokens":1e30,
         "completion_tokens_details":{"reasoning_tokens":null}},"model":7,
         "choices":[{"message":{"content":"{\"usage\":{\"prompt_tokens\":99}}"}}]})",
      scratch, usage, model));
  EXPECT_EQ(usage.prompt_tokens, 0);
  EXPECT_EQ(usage.completion_tokens, 0);
  EXPECT_EQ(usage.total_tokens, 0);
  EXPECT_EQ(usage.reasoning_tokens, 0);
  EXPECT_EQ(model, "");

  // Escaped keys are read by their text, as JSON means them.
  TokenUsage escaped;
  ASSERT_TRUE(extract_usage(R"({"\u0075sage":{"prompt_tokens":3,"total_tokens":4}})", scratch,
                            escaped, model));
  EXPECT_EQ(escaped.prompt_tokens, 3);
  EXPECT_EQ(escaped.total_tokens, 4);
}

TEST(UsageExtraction, StreamChunksGiveTextAndTheUsageOnlyChunk) {
  JsonScratch scratch;
  TokenUsage usage;
  std::string model, text;
  auto first = inspect_stream_chunk(
      R"({"choices":[],"created":0,"id":"","model":"","object":"","prompt_filter_results":[]})",
      scratch, usage, model, text);
  EXPECT_TRUE(first.json);
  EXPECT_FALSE(first.usage_only);
  auto content = inspect_stream_chunk(
      R"({"choices":[{"delta":{"content":"Hello"},"index":0}],"model":"gpt-4o","usage":null})",
      scratch, usage, model, text);
  EXPECT_TRUE(content.has_content);
  EXPECT_FALSE(content.has_usage);
  inspect_stream_chunk(R"({"choices":[{"delta":{"content":" world"}}]})", scratch, usage, model,
                       text);
  EXPECT_EQ(text, "Hello world");
  EXPECT_EQ(model, "gpt-4o");
  auto last = inspect_stream_chunk(
      R"({"choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7}})",
      scratch, usage, model, text);
  EXPECT_TRUE(last.usage_only);
  EXPECT_EQ(usage.total_tokens, 7);
  auto tools = inspect_stream_chunk(
      R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{\"a\":1}"}}]}}]})", scratch,
      usage, model, text);
  EXPECT_TRUE(tools.has_content);
  EXPECT_EQ(text, "Hello world{\"a\":1}");
}

// Likewise for stream chunks: a choice's text comes out as content, refusal, tool
// calls whatever the order of its keys, a broken chunk leaves text, usage and model as they were,
// and `text` is read only where there is no `delta` object.
TEST(UsageExtraction, StreamChunksInAnyKeyOrderAndBrokenChunksChangeNothing) {
  JsonScratch scratch;
  TokenUsage usage;
  std::string model, text;
  auto reordered = inspect_stream_chunk(
      R"({"model":"m1","choices":[{"delta":{"tool_calls":[{"function":{"arguments":"A","name":"N"}},
         {"function":null},{"function":{"name":"M"}}],"refusal":"R","content":"C","content":"X"}},
         {"text":"ignored","delta":{"content":"2"}},{"delta":null,"text":"T"},7,{"text":5}],
         "usage":null,"model":"m2"})",
      scratch, usage, model, text);
  EXPECT_TRUE(reordered.json);
  EXPECT_TRUE(reordered.has_content);
  EXPECT_FALSE(reordered.has_usage);
  EXPECT_FALSE(reordered.usage_only);
  EXPECT_EQ(text, "CRNAM2T");
  EXPECT_EQ(model, "m1");

  usage.prompt_tokens = 42;
  for (const std::string& bad : std::vector<std::string>{
           R"({"choices":[{"delta":{"content":"lost"}}],"usage":{"prompt_tokens":1})",
           R"({"choices":[{"delta":{"content":"lost"}}]} {})",
           R"({"model":"m3","choices":[{"delta":{"content":"lost\x"}}]})",
           R"({"choices":[{"delta":{"content":"lost"}},]})", "[DONE]", ""}) {
    auto chunk = inspect_stream_chunk(bad, scratch, usage, model, text);
    EXPECT_FALSE(chunk.json) << bad;
    EXPECT_FALSE(chunk.has_content) << bad;
    EXPECT_FALSE(chunk.has_usage) << bad;
    EXPECT_EQ(text, "CRNAM2T") << bad;
    EXPECT_EQ(usage.prompt_tokens, 42) << bad;
    EXPECT_EQ(model, "m1") << bad;
  }

  auto usage_only = inspect_stream_chunk(
      R"({"id":"x","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4,
         "completion_tokens_details":{"reasoning_tokens":2}}})",
      scratch, usage, model, text);
  EXPECT_TRUE(usage_only.usage_only);
  EXPECT_FALSE(usage_only.has_content);
  EXPECT_EQ(usage.prompt_tokens, 3);
  EXPECT_EQ(usage.total_tokens, 7);
  EXPECT_EQ(usage.reasoning_tokens, 2);
}

TEST(RequestBody, InspectsStreamingFields) {
  JsonScratch scratch;
  RequestBodyInfo info;
  auto error = inspect_request_body(
      R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,
          "stream_options":{"include_usage":true},"max_tokens":50})",
      scratch, info);
  ASSERT_FALSE(error) << *error;
  EXPECT_EQ(info.model, "gpt-4o");
  EXPECT_TRUE(info.stream);
  EXPECT_TRUE(info.include_usage);
  EXPECT_EQ(info.max_tokens, 50);
}

TEST(RequestBody, RejectsMalformedJsonWithAReason) {
  JsonScratch scratch;
  for (std::string bad :
       {"{\"model\":", "[1,2]", "not json", "{\"a\":1} trailing", "{\"a\":[1,}"}) {
    RequestBodyInfo info;
    EXPECT_TRUE(inspect_request_body(bad, scratch, info).has_value()) << bad;
  }
}

TEST(RequestBody, RewriteAddsIncludeUsageAndModel) {
  BodyRewrite rewrite;
  rewrite.add_include_usage = true;
  rewrite.model = "gpt-4o-ptu";
  auto body =
      rewrite_request_body(R"({"model":"gpt-4o","stream":true,"stream_options":{}})", rewrite);
  ASSERT_TRUE(body);
  JsonScratch scratch;
  RequestBodyInfo info;
  ASSERT_FALSE(inspect_request_body(*body, scratch, info));
  EXPECT_TRUE(info.include_usage);
  EXPECT_EQ(info.model, "gpt-4o-ptu");
}

}  // namespace
}  // namespace sluice::gateway
