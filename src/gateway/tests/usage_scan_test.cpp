#include "gateway/usage_scan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/tests/json_mutations.hpp"
#include "gateway/usage_extraction.hpp"

namespace sluice::gateway {
namespace {

// Answers as backends give them: Azure's with content filter results, OpenAI's with details and a
// fingerprint, the simulator's; one with repeated keys (the first counts), and one with escapes,
// arrays and nulls in its content.
const std::vector<std::string> kAnswers = {
    R"({"choices":[{"content_filter_results":{"hate":{"filtered":false,"severity":"safe"},"self_harm":{"filtered":false,"severity":"safe"}},"finish_reason":"stop","index":0,"logprobs":null,"message":{"content":"Hello! How can I help you today?","role":"assistant"}}],"created":1700000000,"id":"chatcmpl-9xyz","model":"gpt-4o-2024-08-06","object":"chat.completion","prompt_filter_results":[{"prompt_index":0,"content_filter_results":{"hate":{"filtered":false,"severity":"safe"}}}],"system_fingerprint":"fp_abc123","usage":{"completion_tokens":9,"completion_tokens_details":{"accepted_prediction_tokens":0,"reasoning_tokens":0},"prompt_tokens":12,"prompt_tokens_details":{"audio_tokens":0,"cached_tokens":0},"total_tokens":21}})",
    R"({
  "id": "chatcmpl-abc",
  "object": "chat.completion",
  "created": 1712345678,
  "model": "o1-mini-2024-09-12",
  "choices": [ { "index": 0, "message": { "role": "assistant", "content": "4", "refusal": null }, "finish_reason": "stop" } ],
  "usage": { "prompt_tokens": 1024, "completion_tokens": 350, "total_tokens": 1374,
             "prompt_tokens_details": { "cached_tokens": 896 },
             "completion_tokens_details": { "reasoning_tokens": 320 } },
  "system_fingerprint": null
})",
    R"({"id":"chatcmpl-sim-1","object":"chat.completion","created":1733500000,"model":"gpt-4o","choices":[{"index":0,"finish_reason":"length","message":{"role":"assistant","content":"lorem ipsum dolor sit amet"}}],"usage":{"prompt_tokens":9,"completion_tokens":16,"total_tokens":25}})",
    R"({"usage":{"total_tokens":30,"extra":{"prompt_tokens":99},"prompt_tokens":10,"completion_tokens":20,"prompt_tokens":77,"prompt_tokens_details":{"cached_tokens":5,"cached_tokens":6},"prompt_tokens_details":{}},"choices":[{"message":{"model":"nested"}}],"model":"first","model":"second","usage":{}})",
    R"({"model":"m-1","choices":[{"message":{"content":"say \"hi\"\n\tthen [stop], {ok}: true","tool_calls":[]}}],"usage":{"prompt_tokens":-3,"completion_tokens":true,"total_tokens":0,"prompt_tokens_details":null,"completion_tokens_details":{"reasoning_tokens":"7"}},"extra":[1,[2,[3,{}]],false,null,-12]})",
};

struct Outcome {
  bool result = false;
  TokenUsage usage;
  std::string model;
};

// What each reading leaves, from the same starting state (counts a stream's earlier chunks might
// have set, and a model already known).
TokenUsage starting_usage() {
  TokenUsage usage;
  usage.prompt_tokens = 101;
  usage.completion_tokens = 102;
  usage.total_tokens = 103;
  usage.cached_tokens = 104;
  usage.reasoning_tokens = 105;
  return usage;
}

Outcome by_dom(const std::string& body) {
  static JsonScratch scratch;
  Outcome out{false, starting_usage(), "before"};
  out.result = extract_usage_by_dom(body, scratch, out.usage, out.model);
  return out;
}

std::optional<Outcome> by_scan(const std::string& body) {
  Outcome out{false, starting_usage(), "before"};
  auto decided = scan_usage(body, out.usage, out.model);
  if (!decided) {
    // Undecided leaves everything as it was.
    EXPECT_EQ(out.model, "before");
    EXPECT_EQ(out.usage.prompt_tokens, 101);
    EXPECT_EQ(out.usage.reasoning_tokens, 105);
    return std::nullopt;
  }
  out.result = *decided;
  return out;
}

// Compares the two readings of `body`; returns whether the scan decided it.
bool same_as_dom(const std::string& body) {
  auto scanned = by_scan(body);
  if (!scanned) return false;
  auto expected = by_dom(body);
  EXPECT_EQ(scanned->result, expected.result) << body;
  EXPECT_EQ(scanned->model, expected.model) << body;
  EXPECT_EQ(scanned->usage.prompt_tokens, expected.usage.prompt_tokens) << body;
  EXPECT_EQ(scanned->usage.completion_tokens, expected.usage.completion_tokens) << body;
  EXPECT_EQ(scanned->usage.total_tokens, expected.usage.total_tokens) << body;
  EXPECT_EQ(scanned->usage.cached_tokens, expected.usage.cached_tokens) << body;
  EXPECT_EQ(scanned->usage.reasoning_tokens, expected.usage.reasoning_tokens) << body;
  EXPECT_EQ(scanned->usage.source, expected.usage.source) << body;
  return true;
}

TEST(UsageScan, DecidesRealAnswersAsTheDomParserDoes) {
  for (const auto& answer : kAnswers) {
    EXPECT_TRUE(same_as_dom(answer)) << "undecided: " << answer;
  }
  TokenUsage usage;
  std::string model;
  ASSERT_EQ(scan_usage(kAnswers[1], usage, model), std::optional<bool>(true));
  EXPECT_EQ(usage.prompt_tokens, 1024);
  EXPECT_EQ(usage.completion_tokens, 350);
  EXPECT_EQ(usage.total_tokens, 1374);
  EXPECT_EQ(usage.cached_tokens, 896);
  EXPECT_EQ(usage.reasoning_tokens, 320);
  EXPECT_EQ(usage.source, UsageSource::kReported);
  EXPECT_EQ(model, "o1-mini-2024-09-12");
}

// Every truncation, every byte deleted, and every byte replaced by each character that changes a
// JSON document's meaning: wherever the scan decides, it decides as simdjson's DOM parser and
// extract_usage did. Fails when the scan accepts what simdjson refuses (or the reverse), or reads
// a count, a repeated key or a details object differently.
TEST(UsageScan, EveryTruncationAndByteChangeReadsAsTheDomParserReadsIt) {
  const auto count = testing::for_each_mutation(kAnswers, same_as_dom);
  // The scan must decide most of them, or this test would compare nothing.
  EXPECT_GT(count.decided, count.cases * 3 / 4) << count.decided << " of " << count.cases;
}

TEST(UsageScan, LeavesToSimdjsonWhatOnlyItCanDecide) {
  const std::vector<std::string> undecided = {
      R"({"model":"caf\u00e9","usage":{}})",                 // \u escape
      "{\"model\":\"caf\xc3\xa9\",\"usage\":{}}",            // UTF-8 to validate
      R"({"usage":{"prompt_tokens":1.0}})",                  // a fraction
      R"({"usage":{"prompt_tokens":1e3}})",                  // an exponent
      R"({"usage":{"prompt_tokens":-0}})",                   // -0
      R"({"usage":{"prompt_tokens":1234567890123456789}})",  // 19 digits
      R"({"model":"a\"b","usage":{}})",                      // an escape in the model's name
      R"([{"usage":{}}])",                                   // not an object at the top
      "",
      std::string(70, '[') + std::string(70, ']'),                    // not an object, and deep
      "{\"a\":" + std::string(70, '[') + std::string(70, ']') + "}",  // deeper than 64
  };
  for (const auto& body : undecided) {
    TokenUsage usage;
    std::string model;
    EXPECT_EQ(scan_usage(body, usage, model), std::nullopt) << body;
  }
}

TEST(UsageScan, RefusesBrokenJsonAndTouchesNothing) {
  const std::vector<std::string> broken = {
      R"({"usage":{"prompt_tokens":1})",    // unclosed
      R"({"usage":{"prompt_tokens":01}})",  // a leading zero
      R"({"usage":{"prompt_tokens":1,}})",  // a trailing comma
      R"({"usage":{"prompt_tokens":tru}})",
      R"({"usage":{}} x)",
      "{\"model\":\"a\tb\",\"usage\":{}}",  // a raw tab in a string
      R"({"model":"a\qb","usage":{}})",     // not an escape
      R"({'usage':{}})",
  };
  for (const auto& body : broken) {
    TokenUsage usage = starting_usage();
    std::string model = "before";
    EXPECT_EQ(scan_usage(body, usage, model), std::optional<bool>(false)) << body;
    EXPECT_EQ(model, "before") << body;
    EXPECT_EQ(usage.prompt_tokens, 101) << body;
    EXPECT_TRUE(same_as_dom(body)) << body;
  }
}

}  // namespace
}  // namespace sluice::gateway
