// Chat prompt token counts. The cookbook examples carry the numbers OpenAI's API reported for them;
// the small cases are worked by hand from the rule (token counts of the strings in comments).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <simdjson.h>

#include "sluice/tokenizer/chat_tokens.hpp"
#include "tokenizer/image_tokens.hpp"

namespace sluice::tokenizer {
namespace {

// openai-cookbook "How to count tokens with tiktoken", section 6.
constexpr const char* kCookbookMessages = R"([
  {"role": "system", "content": "You are a helpful, pattern-following assistant that translates corporate jargon into plain English."},
  {"role": "system", "name": "example_user", "content": "New synergies will help drive top-line growth."},
  {"role": "system", "name": "example_assistant", "content": "Things working well together will increase revenue."},
  {"role": "system", "name": "example_user", "content": "Let's circle back when we have more bandwidth to touch base on opportunities for increased leverage."},
  {"role": "system", "name": "example_assistant", "content": "Let's talk later when we're less busy about how to do better."},
  {"role": "user", "content": "This late pivot means we don't have time to boil the ocean for the client deliverable."}
])";

// Section 7: one tool with an enum, two messages.
constexpr const char* kCookbookToolsBody = R"({
  "messages": [
    {"role": "system", "content": "You are a helpful assistant that can answer to questions about the weather."},
    {"role": "user", "content": "What's the weather like in San Francisco?"}
  ],
  "tools": [{"type": "function", "function": {
    "name": "get_current_weather",
    "description": "Get the current weather in a given location",
    "parameters": {"type": "object", "properties": {
      "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
      "unit": {"type": "string", "description": "The unit of temperature to return", "enum": ["celsius", "fahrenheit"]}},
      "required": ["location"]}}}]
})";

// Counts `body` from its text and from a document parsed beforehand (as the gateway's token limit
// does), and expects the two to agree.
std::size_t count(const std::string& body, std::string_view model = {}) {
  ChatCountOptions options;
  options.model = model;
  auto result = count_chat_prompt_tokens(body, options);
  EXPECT_TRUE(result) << result.error().message;
  simdjson::dom::parser parser;
  simdjson::dom::element parsed;
  EXPECT_EQ(parser.parse(body).get(parsed), simdjson::SUCCESS);
  auto from_document = count_chat_prompt_tokens(parsed, options);
  EXPECT_TRUE(from_document);
  if (result && from_document) {
    EXPECT_EQ(from_document->prompt_tokens, result->prompt_tokens) << body;
    EXPECT_EQ(from_document->estimated, result->estimated) << body;
    EXPECT_EQ(from_document->encoding, result->encoding) << body;
  }
  return result ? result->prompt_tokens : 0;
}

TEST(ChatTokens, CookbookMessagesMatchWhatTheApiReported) {
  const std::string body = std::string(R"({"messages": )") + kCookbookMessages + "}";
  EXPECT_EQ(count(body, "gpt-3.5-turbo-0301"), 127u);
  EXPECT_EQ(count(body, "gpt-3.5-turbo-0613"), 129u);
  EXPECT_EQ(count(body, "gpt-4-0613"), 129u);
  EXPECT_EQ(count(body, "gpt-4o"), 124u);
  EXPECT_EQ(count(body, "gpt-4o-mini"), 124u);
}

TEST(ChatTokens, CookbookToolsMatchWhatTheApiReported) {
  EXPECT_EQ(count(kCookbookToolsBody, "gpt-3.5-turbo"), 105u);
  EXPECT_EQ(count(kCookbookToolsBody, "gpt-4"), 105u);
  EXPECT_EQ(count(kCookbookToolsBody, "gpt-4o"), 101u);
  EXPECT_EQ(count(kCookbookToolsBody, "gpt-4o-mini"), 101u);
  auto result = count_chat_prompt_tokens(kCookbookToolsBody, {.model = "gpt-4o"});
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->estimated);
}

TEST(ChatTokens, TheFirstOfARepeatedFieldCounts) {
  // A JSON object may repeat a key; the request's fields are read in one pass over its keys, and
  // the first of each counts, as a look-up by name finds it. "hi" 1, "user" 1: 3 + 2 + 3 = 8.
  const std::string repeated =
      R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],)"
      R"( "messages": [{"role": "user", "content": "a much longer second message"}],)"
      R"( "model": "gpt-3.5-turbo-0301"})";
  EXPECT_EQ(count(repeated), 8u);
  // tools that are not an array leave the legacy functions to count, and a null tool_choice is
  // the choice (it adds nothing) where function_call would otherwise add its name and 4.
  const std::string head = R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}],)"
                           R"( "functions": [{"name": "f", "description": "d", "parameters": {}}])";
  const std::size_t functions_only = count(head + "}");
  EXPECT_GT(functions_only, 8u);
  EXPECT_EQ(count(head + R"(, "tools": 7, "tool_choice": null, "function_call": {"name": "f"}})"),
            functions_only);
  EXPECT_GT(count(head + R"(, "tools": 7, "function_call": {"name": "f"}})"), functions_only);
}

TEST(ChatTokens, HandWorkedMessages) {
  // 3 per message + "user" 1 + "hello world" 2, then 3 for the reply: 9.
  const std::string one =
      R"({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello world"}]})";
  EXPECT_EQ(count(one), 9u);
  auto exact = count_chat_prompt_tokens(one);
  ASSERT_TRUE(exact);
  EXPECT_FALSE(exact->estimated);
  EXPECT_EQ(exact->encoding, &o200k_base());
  // name: "bob" 1 + tokens_per_name 1 -> 11; gpt-3.5-turbo-0301: 4 per message, name -1 -> 10.
  const std::string named =
      R"({"model": "gpt-4", "messages": [{"role": "user", "name": "bob", "content": "hello world"}]})";
  EXPECT_EQ(count(named), 11u);
  EXPECT_EQ(count(named, "gpt-3.5-turbo-0301"), 10u);
  // Two messages: (3 + "system" 1 + "Be brief." 3) + (3 + 1 + 2) + 3 = 16. Null content is 0.
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": [{"role": "system", "content": "Be brief."},
      {"role": "user", "content": "hello world"}]})"),
            16u);
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": [{"role": "assistant", "content": null}]})"),
            3u + 1u + 3u);
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": []})"), 3u);
}

// The prompt as the gateway's scan gathers it (its texts, messages, names, function roles) counts
// as the document does: the cookbook's numbers, both message rules, and the function role.
TEST(ChatTokens, APlainPromptCountsAsItsDocumentDoes) {
  const std::vector<std::string_view> cookbook = {
      "system",
      "You are a helpful, pattern-following assistant that translates corporate jargon into plain "
      "English.",
      "system",
      "example_user",
      "New synergies will help drive top-line growth.",
      "system",
      "example_assistant",
      "Things working well together will increase revenue.",
      "system",
      "example_user",
      "Let's circle back when we have more bandwidth to touch base on opportunities for increased "
      "leverage.",
      "system",
      "example_assistant",
      "Let's talk later when we're less busy about how to do better.",
      "user",
      "This late pivot means we don't have time to boil the ocean for the client deliverable."};
  PlainChatPrompt prompt{.texts = cookbook, .messages = 6, .names = 4, .function_messages = 0};
  EXPECT_EQ(count_plain_chat_prompt(prompt, cl100k_base(), "gpt-3.5-turbo-0301").prompt_tokens,
            127u);
  EXPECT_EQ(count_plain_chat_prompt(prompt, cl100k_base(), "gpt-4-0613").prompt_tokens, 129u);
  const auto o200k = count_plain_chat_prompt(prompt, o200k_base(), "gpt-4o");
  EXPECT_EQ(o200k.prompt_tokens, 124u);
  EXPECT_FALSE(o200k.estimated);
  EXPECT_EQ(o200k.encoding, &o200k_base());

  const std::string function_body =
      R"({"messages": [{"role": "user", "content": "weather?"},)"
      R"( {"role": "function", "name": "get_weather", "content": "{\"temp\": 20}"}]})";
  const std::vector<std::string_view> texts = {"user", "weather?", "function", "get_weather",
                                               "{\"temp\": 20}"};
  const auto plain = count_plain_chat_prompt(
      {.texts = texts, .messages = 2, .names = 1, .function_messages = 1}, o200k_base(), "gpt-4o");
  EXPECT_EQ(plain.prompt_tokens, count(function_body, "gpt-4o"));
  EXPECT_TRUE(plain.estimated);  // the function role's -2 is measured, not documented
}

TEST(ChatTokens, MultiPartContent) {
  // Text parts count as text: 3 + "user" 1 + "hello world" 2 + "Be brief." 3 + 3 = 12.
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": [{"role": "user", "content": [
      {"type": "text", "text": "hello world"}, {"type": "text", "text": "Be brief."}]}]})"),
            12u);
  // An image of unknown size costs the low-detail 85: 3 + 1 + "What is in this image?" 6 + 85 + 3.
  const std::string image = R"({"model": "gpt-4o", "messages": [{"role": "user", "content": [
      {"type": "text", "text": "What is in this image?"},
      {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]})";
  EXPECT_EQ(count(image), 98u);
  // gpt-4o-mini's image base cost is 2833.
  EXPECT_EQ(count(image, "gpt-4o-mini"), 98u - 85u + 2833u);
}

TEST(ChatTokens, ToolCallsAndToolMessages) {
  // Assistant tool call: 3 + "assistant" 1 + ("get_weather" 2 + {"city":"Paris"} 5 + 3);
  // tool message: 3 + "tool" 1 + "call_1" 3 + "hello world" 2; reply 3. Total 26.
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": [
      {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "hello world"}]})"),
            26u - 3u + 3u);
}

TEST(ChatTokens, ToolDefinitionsFollowTheCookbookFormula) {
  // Messages: 3 + "user" 1 + "hello world" 2 + 3 = 9. Tool on o200k: func_init 7 +
  // "get_weather:Get the weather" 5 + prop_init 3 + (prop_key 3 + "city:string:City name" 5) +
  // (prop_key 3 + enum_init -3 + 2 * enum_item 3 + "celsius" 2 + "fahrenheit" +
  // "unit:string:" 3) + func_end 12.
  const std::string body = R"({"model": "gpt-4o",
      "messages": [{"role": "user", "content": "hello world"}],
      "tools": [{"type": "function", "function": {"name": "get_weather",
        "description": "Get the weather.", "parameters": {"type": "object", "properties": {
          "city": {"type": "string", "description": "City name"},
          "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}}}}}]})";
  const std::size_t fahrenheit = o200k_base().count("fahrenheit");
  EXPECT_EQ(count(body),
            9u + 7u + 5u + 3u + (3u + 5u) + (3u - 3u + 6u + 2u + fahrenheit + 3u) + 12u);
  // On cl100k models the function start costs 10 instead of 7.
  EXPECT_EQ(count(body, "gpt-4"),
            count(body) + 3u + cl100k_base().count("fahrenheit") - fahrenheit);
  // tool_choice "none" adds 1, a named function its name + 4.
  std::string none = body;
  none.insert(none.size() - 1, R"(, "tool_choice": "none")");
  EXPECT_EQ(count(none), count(body) + 1u);
  std::string named = body;
  named.insert(named.size() - 1,
               R"(, "tool_choice": {"type": "function", "function": {"name": "get_weather"}})");
  EXPECT_EQ(count(named), count(body) + 2u + 4u);
}

TEST(ChatTokens, ModelAndEncodingSelection) {
  const std::string no_model = R"({"messages": [{"role": "user", "content": "hello world"}]})";
  auto r = count_chat_prompt_tokens(no_model);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, core::ErrorCode::kNotFound);
  r = count_chat_prompt_tokens(no_model, {.encoding = &cl100k_base()});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->encoding, &cl100k_base());
  const std::string unknown = R"({"model": "my-deployment", "messages": []})";
  EXPECT_FALSE(count_chat_prompt_tokens(unknown));
  r = count_chat_prompt_tokens(unknown, {.default_encoding = &o200k_base()});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->encoding, &o200k_base());
  // options.model overrides the body's model.
  r = count_chat_prompt_tokens(unknown, {.model = "gpt-35-turbo"});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->encoding, &cl100k_base());
}

TEST(ChatTokens, MalformedRequestsAreErrorsNotExceptions) {
  const ChatCountOptions options{.encoding = &o200k_base()};
  for (const char* body : {"", "{", "{\"messages\": [}", "[1, 2]", "{\"messages\": 3}",
                           "{\"messages\": [{\"role\": \"user\"}, 7]}", "\xff\xfe"}) {
    auto r = count_chat_prompt_tokens(body, options);
    EXPECT_FALSE(r) << body;
    if (!r) EXPECT_EQ(r.error().code, core::ErrorCode::kInvalidArgument) << body;
  }
  auto r = count_chat_prompt_tokens("{\"messages\": [{}, 7]}", options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("messages[1]"), std::string::npos);
  r = count_chat_prompt_tokens("{\"messages\": [", options);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("malformed JSON"), std::string::npos);
}

std::string base64(const std::string& bytes) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < bytes.size(); i += 3) {
    std::uint32_t v = static_cast<std::uint8_t>(bytes[i]) << 16;
    if (i + 1 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 1]) << 8;
    if (i + 2 < bytes.size()) v |= static_cast<std::uint8_t>(bytes[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < bytes.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += i + 2 < bytes.size() ? kAlphabet[v & 63] : '=';
  }
  return out;
}

std::string png_url(std::uint32_t w, std::uint32_t h) {
  std::string b = "\x89PNG\r\n\x1a\n";
  b += std::string("\0\0\0\x0dIHDR", 8);
  for (const std::uint32_t v : {w, h}) {
    for (int s = 24; s >= 0; s -= 8) b += static_cast<char>((v >> s) & 0xFF);
  }
  b += std::string("\x08\x02\0\0\0", 5);
  return "data:image/png;base64," + base64(b);
}

TEST(ImageTokens, SizesFromDataUrls) {
  auto size = image_size_from_url(png_url(1024, 768));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 1024u);
  EXPECT_EQ(size->height, 768u);
  const std::string gif = std::string("GIF89a") + std::string("\x20\x03\x58\x02", 4) + "xx";
  size = image_size_from_url("data:image/gif;base64," + base64(gif));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 800u);
  EXPECT_EQ(size->height, 600u);
  // JPEG: SOI, an APP0 segment to skip, then SOF0 with height 480 and width 640.
  const std::string jpeg = std::string(
                               "\xFF\xD8\xFF\xE0\x00\x04\x00\x00\xFF\xC0\x00\x11\x08"
                               "\x01\xE0\x02\x80\x03",
                               18) +
                           std::string(16, '\0');
  size = image_size_from_url("data:image/jpeg;base64," + base64(jpeg));
  ASSERT_TRUE(size);
  EXPECT_EQ(size->width, 640u);
  EXPECT_EQ(size->height, 480u);
  EXPECT_FALSE(image_size_from_url("https://example.com/a.png"));
  EXPECT_FALSE(image_size_from_url("data:image/png;base64,!!!!"));
  EXPECT_FALSE(image_size_from_url("data:text/plain,hello"));
}

TEST(ImageTokens, OpenAiTileFormula) {
  // Examples from OpenAI's vision guide.
  EXPECT_EQ(image_prompt_tokens(ImageSize{1024, 1024}, "high", "gpt-4o").tokens, 765u);
  EXPECT_EQ(image_prompt_tokens(ImageSize{2048, 4096}, "high", "gpt-4o").tokens, 1105u);
  EXPECT_EQ(image_prompt_tokens(ImageSize{4096, 8192}, "low", "gpt-4o").tokens, 85u);
  EXPECT_EQ(image_prompt_tokens(ImageSize{512, 512}, "auto", "gpt-4o").tokens, 255u);
  EXPECT_EQ(image_prompt_tokens(std::nullopt, "high", "gpt-4o").tokens, 85u);
  EXPECT_EQ(image_prompt_tokens(ImageSize{1024, 1024}, "high", "gpt-4o-mini").tokens,
            2833u + 4u * 5667u);
  // Through a chat body: 3 + "user" 1 + 765 + 3.
  EXPECT_EQ(count(R"({"model": "gpt-4o", "messages": [{"role": "user", "content": [
      {"type": "image_url", "image_url": {"url": ")" +
                  png_url(1024, 1024) + R"(", "detail": "high"}}]}]})"),
            772u);
}

}  // namespace
}  // namespace sluice::tokenizer
