#pragma once
// Prompt tokens of an OpenAI chat completion request, before it is sent (for token limits).
//
// The rule is OpenAI's documented one (openai-cookbook "How to count tokens with tiktoken",
// num_tokens_from_messages): every message costs tokens_per_message (3; 4 for gpt-3.5-turbo-0301)
// plus the tokens of each of its string fields (role, content, name, ...), a `name` field costs
// tokens_per_name more (1; -1 for gpt-3.5-turbo-0301), and the reply is primed with 3 tokens.
// That much is exact for text messages. The rest is an estimate, flagged in the result:
//  - image parts: OpenAI's published tile formula when the image size can be read (a data: URL of
//    PNG, GIF, JPEG or WebP) or detail is "low"; otherwise the low-detail base cost;
//  - tool and function definitions: the cookbook's num_tokens_for_tools formula (fitted by
//    OpenAI to observed usage on gpt-4o, gpt-4o-mini, gpt-3.5-turbo and gpt-4, and used widely
//    since): fixed costs per function, property and enum value plus "name:description" and
//    "name:type:description" lines; nested object properties are not counted;
//  - tool_choice / function_call: "none" +1, a named function its name +4, and assistant
//    tool_calls / function_call in the history name + arguments + 3 each, a "function" role
//    message -2 (hmarr/openai-chat-tokens, measured against the API);
//  - audio and file parts count 0.
// docs/tokenizer.md gives the formulas and their sources.
#include <cstddef>
#include <span>
#include <string_view>

#include "sluice/core/result.hpp"
#include "sluice/tokenizer/encoding.hpp"

namespace simdjson::dom {
class element;
}

namespace sluice::tokenizer {

struct ChatCountOptions {
  // Count with this encoding (and the default 3/1 message rule unless `model` says otherwise).
  const Encoding* encoding = nullptr;
  // The model, for the message rule, the image formula and (without `encoding`) the encoding.
  // Empty: the body's "model" field.
  std::string_view model;
  // When neither `encoding` nor a known model decides: this encoding, or a not_found error if null.
  const Encoding* default_encoding = nullptr;
};

struct ChatTokenCount {
  std::size_t prompt_tokens = 0;
  const Encoding* encoding = nullptr;  // the encoding that was used
  bool estimated = false;              // images, tools, functions or tool calls were estimated
};

// Counts the prompt tokens of `body`, the JSON text of a chat completion request. Malformed JSON,
// a body without a "messages" array, a message that is not an object, or an unknown model (without
// a default) give an invalid_argument / not_found error saying what is wrong. Never throws (except
// std::bad_alloc). Thread-safe: each thread reuses its own parser.
core::Result<ChatTokenCount> count_chat_prompt_tokens(std::string_view body,
                                                      const ChatCountOptions& options = {});

// The same for a body already parsed (by simdjson's DOM parser), as the gateway has it: the count
// then costs no second parse.
core::Result<ChatTokenCount> count_chat_prompt_tokens(const simdjson::dom::element& body,
                                                      const ChatCountOptions& options = {});

// A chat request's prompt as a one-pass reading of its JSON can gather it without building a
// document (the gateway's token limit, request_body_scan.cpp): every field of every message a
// string or a value the count passes over (null, a number, an object other than a function call),
// no content parts, tool calls or function calls, and no tools, functions or choice of them in the
// request. For such a request this counts exactly what count_chat_prompt_tokens() counts.
struct PlainChatPrompt {
  std::span<const std::string_view> texts;  // every string field of every message, unescaped
  std::size_t messages = 0;
  std::size_t names = 0;              // string fields named "name"
  std::size_t function_messages = 0;  // messages whose role is "function"
};
ChatTokenCount count_plain_chat_prompt(const PlainChatPrompt& prompt, const Encoding& encoding,
                                       std::string_view model);

}  // namespace sluice::tokenizer
