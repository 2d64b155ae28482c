#include "gateway/request_body_scan.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "gateway/request_body.hpp"
#include "gateway/tests/json_mutations.hpp"
#include "gateway/usage_estimation.hpp"

namespace sluice::gateway {
namespace {

// Request bodies as clients send them: the bench's one-line chat, the openai package's streamed
// chat with a system prompt holding escapes, repeated keys (the first counts) with values of the
// wrong type, and tools with nested schemas.
const std::vector<std::string> kBodies = {
    R"({"messages":[{"role":"user","content":"Hello"}],"max_tokens":16})",
    R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"system","content":"You are \"helpful\".\nBe brief."},{"role":"user","content":"Hi there, what is 2+2?"}],"max_completion_tokens":100,"temperature":0})",
    R"({"model":"a","model":"b","stream":null,"stream":true,"stream_options":{"include_usage":"yes","include_usage":true},"stream_options":{"include_usage":true},"max_tokens":null,"max_tokens":7,"max_completion_tokens":5})",
    R"({ "messages": [ { "role": "user", "content": "weather?" } ],
  "tools": [ { "type": "function", "function": { "name": "get_weather",
    "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": [ "city" ] } } } ],
  "stream": false, "max_tokens": -1, "n": 1, "stop": [ "\n\n" ], "user": "u-42" })",
};

// Compares the two readings of `body`; returns whether the scan decided it.
bool same_as_dom(const std::string& body) {
  RequestBodyInfo scanned;
  if (!scan_request_body(body, scanned)) {
    // Undecided or invalid leaves everything as it was.
    EXPECT_FALSE(scanned.parsed) << body;
    EXPECT_TRUE(scanned.model.empty()) << body;
    EXPECT_FALSE(scanned.max_tokens) << body;
    return false;
  }
  static JsonScratch scratch;
  RequestBodyInfo expected;
  auto error = inspect_request_body_by_dom(body, scratch, expected);
  EXPECT_FALSE(error) << body << ": " << error.value_or("");
  EXPECT_EQ(scanned.parsed, expected.parsed) << body;
  EXPECT_EQ(scanned.model, expected.model) << body;
  EXPECT_EQ(scanned.stream, expected.stream) << body;
  EXPECT_EQ(scanned.include_usage, expected.include_usage) << body;
  EXPECT_EQ(scanned.max_tokens, expected.max_tokens) << body;
  EXPECT_EQ(scanned.document_source, nullptr) << body;  // no DOM: a policy parses for itself
  return true;
}

TEST(RequestBodyScan, DecidesClientBodiesAsTheDomParserDoes) {
  for (const auto& body : kBodies) EXPECT_TRUE(same_as_dom(body)) << "undecided: " << body;
  RequestBodyInfo info;
  ASSERT_TRUE(scan_request_body(kBodies[2], info));
  EXPECT_EQ(info.model, "a");
  EXPECT_FALSE(info.stream);         // the first "stream" is null
  EXPECT_FALSE(info.include_usage);  // the first include_usage is a string
  EXPECT_EQ(info.max_tokens, 5);     // the first max_tokens is null: max_completion_tokens counts
  EXPECT_TRUE(info.parsed);
}

// Every truncation, every byte deleted, and every byte replaced by each character that changes a
// JSON document's meaning: wherever the scan accepts a body, simdjson's DOM parser accepts it too
// and reads the same fields from it. Fails when the scan accepts what simdjson refuses, or reads
// a repeated key, a wrong type or the stream options differently.
TEST(RequestBodyScan, EveryTruncationAndByteChangeReadsAsTheDomParserReadsIt) {
  const auto count = testing::for_each_mutation(kBodies, same_as_dom);
  // Broken bodies are left to simdjson (it says where they break), so fewer are decided here than
  // for answers: ~42 %.
  EXPECT_GT(count.decided, count.cases / 3) << count.decided << " of " << count.cases;
}

TEST(RequestBodyScan, LeavesToSimdjsonWhatOnlyItCanDecideOrExplain) {
  const std::vector<std::string> left = {
      R"({"model":"caf\u00e9"})",
      "{\"messages\":[{\"content\":\"h\xc3\xa9llo\"}]}",
      R"({"temperature":0.7})",
      R"({"model":"a\/b"})",
      R"([])",
      R"({"max_tokens":16,})",  // broken: the DOM parser's message says where
      "",
  };
  for (const auto& body : left) {
    RequestBodyInfo info;
    EXPECT_FALSE(scan_request_body(body, info)) << body;
    EXPECT_FALSE(info.parsed) << body;
  }
  // Through inspect_request_body, a broken body still gets simdjson's located message.
  JsonScratch scratch;
  RequestBodyInfo info;
  auto error = inspect_request_body(R"({"max_tokens":16,})", scratch, info);
  ASSERT_TRUE(error);
  EXPECT_NE(error->find("not valid JSON"), std::string::npos) << *error;
}

// Chat bodies for the prompt the scan gathers: the bench's; one with escapes in its texts, a name,
// a function role after a repeated role key, null content and values the count passes over; and
// one with content parts and tools, which the document counts (a mutation may remove them).
const std::vector<std::string> kChatBodies = {
    R"({"messages":[{"role":"user","content":"Hello"}],"max_tokens":16})",
    R"({"model":"gpt-4o","messages":[{"role":"system","content":"You are \"helpful\".\nBe\tbrief \\ ok\/"},{"role":"user","name":"bob","content":"Hi"},{"role":"function","role":"user","name":"f","content":"{\"t\":1}"},{"role":"assistant","content":null,"weight":1,"meta":{"a":[1,"x"]}}],"stream":true})",
    R"({"messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"tool","tool_calls":[{"function":{"name":"f","arguments":"{}"}}]}],"tools":[{"type":"function","function":{"name":"f"}}]})",
};

// Scans `body` gathering its chat prompt; where the prompt is gathered, expects it to count as the
// document's prompt counts (both message rules) and the routing fields to read as without
// gathering. Returns whether the prompt was gathered.
bool gathered_as_dom(const std::string& body) {
  RequestBodyInfo gathered;
  const bool decided = scan_request_body(body, gathered, true);
  RequestBodyInfo routing;
  EXPECT_EQ(decided, scan_request_body(body, routing)) << body;
  EXPECT_EQ(gathered.model, routing.model) << body;
  EXPECT_EQ(gathered.stream, routing.stream) << body;
  EXPECT_EQ(gathered.max_tokens, routing.max_tokens) << body;
  if (!decided || !gathered.prompt.plain) {
    EXPECT_TRUE(gathered.prompt.texts.empty()) << body;  // nothing gathered is kept
    return false;
  }
  for (std::string_view model : {"gpt-4o", "gpt-3.5-turbo-0301"}) {
    EXPECT_EQ(estimate_scanned_chat_prompt_tokens(gathered.prompt, model),
              estimate_prompt_tokens(body, Operation::kChatCompletions, model))
        << model << ": " << body;
  }
  return true;
}

TEST(RequestBodyScan, GathersAPlainChatPromptThatCountsAsItsDocument) {
  EXPECT_TRUE(gathered_as_dom(kChatBodies[0]));
  EXPECT_TRUE(gathered_as_dom(kChatBodies[1]));
  EXPECT_FALSE(gathered_as_dom(kChatBodies[2]));
  RequestBodyInfo info;
  ASSERT_TRUE(scan_request_body(kChatBodies[1], info, true));
  EXPECT_EQ(info.prompt.messages, 4u);
  EXPECT_EQ(info.prompt.names, 2u);
  EXPECT_EQ(info.prompt.function_messages, 1u);  // the first role counts
  EXPECT_EQ(info.prompt.texts.size(), 10u);      // every string field, the repeated role too
  // 3 per message, "user" 1 and "Hello" 1, and the reply's 3: 8 (o200k_base).
  ASSERT_TRUE(scan_request_body(kChatBodies[0], info, true));
  EXPECT_EQ(estimate_scanned_chat_prompt_tokens(info.prompt, "gpt-4o"), 8);
}

// Every truncation and byte change of the chat bodies: a prompt the scan gathers counts exactly as
// the document's. Fails when a name, a function role, an escape, a repeated key or a value the
// count reads from the document (content parts, tool calls, tools) is taken differently.
TEST(RequestBodyScan, EveryTruncationAndByteChangeOfAGatheredPromptCountsAsItsDocument) {
  const auto count = testing::for_each_mutation(kChatBodies, gathered_as_dom);
  EXPECT_GT(count.decided, count.cases / 10) << count.decided << " of " << count.cases;
}

TEST(RequestBodyScan, LeavesToTheDocumentAPromptItCannotCount) {
  const std::vector<std::string> left = {
      R"({"messages":[{"role":"user","content":"hi"}],"tools":[]})",
      R"({"messages":[{"role":"user","content":"hi"}],"functions":7})",
      R"({"tool_choice":"none","messages":[{"role":"user","content":"hi"}]})",
      R"({"messages":[{"role":"user","content":"hi"}],"function_call":null})",
      R"({"messages":[{"role":"user","content":[]}]})",
      R"({"messages":[{"role":"assistant","tool_calls":[]}]})",
      R"({"messages":[{"role":"assistant","function_call":{"name":"f"}}]})",
      R"({"messages":[{"role":"user","content":"hi"},"hello"]})",
      R"({"messages":{"role":"user","content":"hi"}})",
      R"({"prompt":"hi"})",
      R"({"messages":[{"role":"user","na\nme":"hi"}]})",  // an escaped key: any key
  };
  for (const auto& body : left) {
    RequestBodyInfo info;
    EXPECT_TRUE(scan_request_body(body, info, true)) << body;
    EXPECT_FALSE(info.prompt.plain) << body;
    EXPECT_FALSE(gathered_as_dom(body)) << body;
  }
}

}  // namespace
}  // namespace sluice::gateway
