#include "sim/request.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace sluice::sim {
namespace {

RequestError error_of(Operation op, std::string_view body) {
  auto r = inspect_request(op, body);
  EXPECT_TRUE(std::holds_alternative<RequestError>(r)) << body;
  if (auto* e = std::get_if<RequestError>(&r)) return *e;
  return {};
}

InspectedRequest ok_of(Operation op, std::string_view body) {
  auto r = inspect_request(op, body);
  if (auto* e = std::get_if<RequestError>(&r)) ADD_FAILURE() << e->message;
  if (auto* v = std::get_if<InspectedRequest>(&r)) return *v;
  return {};
}

constexpr auto kChat = Operation::kChatCompletions;

TEST(Request, ReadsChatFields) {
  auto r = ok_of(kChat, R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],
      "max_tokens":12,"stream":true,"stream_options":{"include_usage":true},"n":2,"seed":5})");
  EXPECT_EQ(r.model, "gpt-4o");
  EXPECT_EQ(r.max_tokens, 12);
  EXPECT_TRUE(r.stream);
  EXPECT_TRUE(r.has_stream_options);
  EXPECT_TRUE(r.include_usage);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(r.seed, 5);
  EXPECT_EQ(
      ok_of(kChat, R"({"messages":[{"role":"user","content":"a"}],"max_completion_tokens":7})")
          .max_tokens,
      7);
}

TEST(Request, ContentHashFollowsMessagesAndSeedOnly) {
  auto a = ok_of(kChat, R"({"messages":[{"role":"user","content":"hi"}]})");
  auto b = ok_of(kChat, R"({"messages": [ {"role":"user", "content":"hi"} ], "stream":false})");
  auto c = ok_of(kChat, R"({"messages":[{"role":"user","content":"ho"}]})");
  auto d = ok_of(kChat, R"({"messages":[{"role":"user","content":"hi"}],"seed":1})");
  EXPECT_EQ(a.content_hash, b.content_hash);
  EXPECT_NE(a.content_hash, c.content_hash);
  EXPECT_NE(a.content_hash, d.content_hash);
  // Escapes aside too: the hash follows what the model would read, not how it was written.
  auto e = ok_of(kChat, R"({"messages":[{"role":"user","content":"\u0068i"}]})");
  EXPECT_EQ(a.content_hash, e.content_hash);
}

TEST(Request, ContentHashTellsApartWhatOnlyTheBytesShare) {
  auto hash = [](std::string_view body) {
    return ok_of(Operation::kCompletions, body).content_hash;
  };
  EXPECT_NE(hash(R"({"prompt":["ab","c"]})"), hash(R"({"prompt":["a","bc"]})"));
  EXPECT_NE(hash(R"({"prompt":["a"]})"), hash(R"({"prompt":"a"})"));
  auto embedding = [](std::string_view body) {
    return ok_of(Operation::kEmbeddings, body).content_hash;
  };
  EXPECT_NE(embedding(R"({"input":[[1,2]]})"), embedding(R"({"input":[[1],[2]]})"));
  auto chat = [](std::string_view content) {
    return ok_of(kChat, std::string(R"({"messages":[{"role":"user","content":)") +
                            std::string(content) + "}]}")
        .content_hash;
  };
  EXPECT_NE(chat(R"("x")"), chat(R"(null)"));
  const std::vector<std::string> values = {
      "1", "1.5", "\"1\"", "true", "false", "null", "18446744073709551615", "[1]", "{\"n\":1}"};
  std::set<std::uint64_t> seen;
  for (const auto& v : values) seen.insert(chat(R"([{"type":"text","text":"a","n":)" + v + "}]"));
  EXPECT_EQ(seen.size(), values.size());
  EXPECT_NE(chat(R"([{"type":"text","text":"ab"}])"), chat(R"([{"type":"text","text":"ba"}])"));
}

TEST(Request, MalformedJsonNamesTheProblemAndOffset) {
  auto e = error_of(kChat, R"({"messages":[{"role":"user","content":"hi"})");
  EXPECT_NE(e.message.find("We could not parse the JSON body of your request"), std::string::npos);
  EXPECT_NE(e.message.find("byte"), std::string::npos) << e.message;
  e = error_of(kChat, R"({"messages": [}, "x": 1})");
  EXPECT_NE(e.message.find("at byte 14"), std::string::npos) << e.message;
  e = error_of(kChat, "");
  EXPECT_NE(e.message.find("empty"), std::string::npos);
  e = error_of(kChat, std::string("\x00\xff\xfe garbage", 11));
  EXPECT_NE(e.message.find("could not parse"), std::string::npos);
}

TEST(Request, ValidationMessagesFollowTheService) {
  EXPECT_EQ(error_of(kChat, "{}").message, "'messages' is a required property");
  EXPECT_EQ(error_of(kChat, "[1]").message, "[1] is not of type 'object'");
  EXPECT_EQ(error_of(kChat, R"({"messages":"hi"})").message,
            "'hi' is not of type 'array' - 'messages'");
  EXPECT_EQ(error_of(kChat, R"({"messages":[]})").message, "[] is too short - 'messages'");
  EXPECT_EQ(error_of(kChat, R"({"messages":[{"content":"x"}]})").message,
            "'role' is a required property - 'messages.0'");
  EXPECT_EQ(error_of(kChat, R"({"messages":[{"role":"robot"}]})").param, "messages.0.role");
  auto e = error_of(kChat, R"({"messages":[{"role":"user","content":"x"}],"max_tokens":"lots"})");
  EXPECT_EQ(e.message, "'lots' is not of type 'integer' - 'max_tokens'");
  EXPECT_EQ(e.param, "max_tokens");
  EXPECT_EQ(
      error_of(kChat, R"({"messages":[{"role":"user","content":"x"}],"max_tokens":0})").message,
      "0 is less than the minimum of 1 - 'max_tokens'");
  EXPECT_EQ(
      error_of(kChat, R"({"messages":[{"role":"user","content":"x"}],"stream":"yes"})").message,
      "'yes' is not of type 'boolean' - 'stream'");
  e = error_of(
      kChat,
      R"({"messages":[{"role":"user","content":"x"}],"stream_options":{"include_usage":true}})");
  EXPECT_EQ(e.param, "stream_options");
  EXPECT_EQ(e.code, "invalid_value");
}

// A key given twice counts at its first occurrence (simdjson's look-up by name), at the top and
// in a message; a later occurrence is neither read nor checked. Errors name the message's index.
TEST(Request, TheFirstOfARepeatedKeyCounts) {
  auto r = ok_of(kChat, R"({"max_tokens":5,"messages":[{"role":"user","role":7,"content":"hi",)"
                        R"("content":{}}],"max_tokens":"x","messages":3,"n":2,"n":0})");
  EXPECT_EQ(r.max_tokens, 5);
  EXPECT_EQ(r.n, 2);
  EXPECT_EQ(error_of(kChat, R"({"max_tokens":"x","max_tokens":5,"messages":[]})").param,
            "max_tokens");
  auto bad_role = error_of(
      kChat, R"({"messages":[{"role":"user"},{"content":"a","role":"robot","role":"user"}]})");
  EXPECT_EQ(bad_role.param, "messages.1.role");
  EXPECT_NE(bad_role.message.find("'robot' is not one of"), std::string::npos) << bad_role.message;
  auto bad_content = error_of(kChat, R"({"messages":[{"role":"user","content":5,"content":"a"}]})");
  EXPECT_EQ(bad_content.param, "messages.0.content");
  EXPECT_EQ(error_of(Operation::kEmbeddings, R"({"input":null,"input":"a"})").param, "input");
}

TEST(Request, EmbeddingInputs) {
  auto r = ok_of(Operation::kEmbeddings,
                 R"({"input":["a b","c"],"dimensions":64,"encoding_format":"base64"})");
  EXPECT_EQ(r.texts, (std::vector<std::string>{"a b", "c"}));
  EXPECT_EQ(r.dimensions, 64);
  EXPECT_TRUE(r.base64);
  r = ok_of(Operation::kEmbeddings, R"({"input":[1,2,3]})");
  EXPECT_EQ(r.token_inputs, std::vector<std::size_t>{3});
  r = ok_of(Operation::kEmbeddings, R"({"input":[[1,2],[3]]})");
  EXPECT_EQ(r.token_inputs, (std::vector<std::size_t>{2, 1}));
  EXPECT_EQ(error_of(Operation::kEmbeddings, "{}").message, "'input' is a required property");
  EXPECT_EQ(error_of(Operation::kEmbeddings, R"({"input":"x","encoding_format":"hex"})").param,
            "encoding_format");
  EXPECT_EQ(error_of(Operation::kEmbeddings, R"({"input":[]})").message,
            "[] is too short - 'input'");
  EXPECT_EQ(error_of(Operation::kEmbeddings, R"({"input":""})").param, "input");
}

TEST(Request, CompletionPrompt) {
  auto r = ok_of(Operation::kCompletions, R"({"prompt":"Once upon","max_tokens":5})");
  EXPECT_EQ(r.texts, std::vector<std::string>{"Once upon"});
  EXPECT_EQ(error_of(Operation::kCompletions, "{}").message, "'prompt' is a required property");
}

}  // namespace
}  // namespace sluice::sim
