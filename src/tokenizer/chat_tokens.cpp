#include "sluice/tokenizer/chat_tokens.hpp"

#include <optional>
#include <string>

#include <simdjson.h>

#include "sluice/tokenizer/model_map.hpp"
#include "sluice/tokenizer/text_count_memo.hpp"
#include "tokenizer/image_tokens.hpp"
#include "tokenizer/json_fields.hpp"

namespace sluice::tokenizer {
namespace {

using simdjson::dom::array;
using simdjson::dom::element;
using simdjson::dom::object;

core::Error invalid(std::string message) {
  return core::Error{core::ErrorCode::kInvalidArgument, std::move(message)};
}

struct MessageRule {
  long per_message = 3;
  long per_name = 1;
};

std::string_view without_final_period(std::string_view s) {
  return s.ends_with('.') ? s.substr(0, s.size() - 1) : s;
}

// A JSON scalar as Python's str() would print it in the cookbook's formula.
std::string scalar_text(element value) {
  if (std::string_view s; value.get(s) == simdjson::SUCCESS) return std::string(s);
  return simdjson::minify(value);
}

// openai-cookbook num_tokens_from_messages: gpt-3.5-turbo-0301 framed messages differently.
MessageRule message_rule(std::string_view model) {
  if (model == "gpt-3.5-turbo-0301" || model == "gpt-35-turbo-0301") return {4, -1};
  return {};
}

class Counter {
 public:
  Counter(const Encoding& encoding, std::string_view model, MessageRule rule)
      : encoding_(encoding), model_(model), rule_(rule) {}

  // The count, the reply's priming (<|start|>assistant<|message|>, 3 tokens) included.
  ChatTokenCount result(const Encoding& encoding) const {
    const long total = total_ + 3;
    ChatTokenCount count;
    count.prompt_tokens = total < 0 ? 0 : static_cast<std::size_t>(total);
    count.encoding = &encoding;
    count.estimated = estimated_;
    return count;
  }

  // Through the thread's memo: a prompt's texts mostly come again on the next request of its app.
  void text(std::string_view s) { total_ += static_cast<long>(memo_.count(encoding_, s)); }

  // The rule's framing of a message, of a name, and of the legacy function role (measured by
  // hmarr/openai-chat-tokens); both readings of a prompt add them.
  void frame_message() { total_ += rule_.per_message; }
  void frame_name() { total_ += rule_.per_name; }
  void frame_function_role() {
    total_ -= 2;
    estimated_ = true;
  }

  core::Result<void> message(element value, std::size_t index) {
    object msg;
    if (value.get(msg) != simdjson::SUCCESS) {
      return invalid("messages[" + std::to_string(index) + "] is not an object");
    }
    frame_message();
    const std::string_view role = string_field(msg, "role");
    for (auto [key, field] : msg) {
      if (std::string_view s; field.get(s) == simdjson::SUCCESS) {
        text(s);
        if (key == "name") frame_name();
      } else if (array parts; key == "content" && field.get(parts) == simdjson::SUCCESS) {
        content_parts(parts);
      } else if (array calls; key == "tool_calls" && field.get(calls) == simdjson::SUCCESS) {
        for (element call : calls) {
          object fn;
          if (call["function"].get(fn) == simdjson::SUCCESS) function_call(fn);
        }
      } else if (object fn; key == "function_call" && field.get(fn) == simdjson::SUCCESS) {
        function_call(fn);
      }
    }
    if (role == "function") frame_function_role();
    return {};
  }

  // openai-cookbook num_tokens_for_tools: per function func_init + "name:description"; if it
  // has properties, prop_init, and per property prop_key + "name:type:description" and, for an
  // enum, enum_init + enum_item + the value per value; func_end once. Descriptions lose one
  // trailing period. The cookbook measured func_init 7 on gpt-4o/gpt-4o-mini and 10 on
  // gpt-3.5-turbo/gpt-4; the encoding family picks between them.
  void definitions(array functions) {
    estimated_ = true;
    const long func_init = encoding_.pattern() == Pattern::kO200k ? 7 : 10;
    constexpr long kPropInit = 3, kPropKey = 3, kEnumInit = -3, kEnumItem = 3, kFuncEnd = 12;
    for (element entry : functions) {
      object fn;
      if (entry.get(fn) != simdjson::SUCCESS) continue;
      if (object inner; fn["function"].get(inner) == simdjson::SUCCESS) fn = inner;
      total_ += func_init;
      text(std::string(string_field(fn, "name")) + ":" +
           std::string(without_final_period(string_field(fn, "description"))));
      object properties;
      if (fn["parameters"]["properties"].get(properties) != simdjson::SUCCESS ||
          properties.size() == 0) {
        continue;
      }
      total_ += kPropInit;
      for (auto [key, value] : properties) {
        total_ += kPropKey;
        if (array values; value["enum"].get(values) == simdjson::SUCCESS) {
          total_ += kEnumInit;
          for (element v : values) {
            total_ += kEnumItem;
            text(scalar_text(v));
          }
        }
        text(std::string(key) + ":" + std::string(string_field(value, "type")) + ":" +
             std::string(without_final_period(string_field(value, "description"))));
      }
    }
    total_ += kFuncEnd;
  }

  // tool_choice / function_call of the request.
  void choice(element value) {
    std::string_view mode;
    if (value.get(mode) == simdjson::SUCCESS) {
      if (mode == "none") {
        total_ += 1;
        estimated_ = true;
      }
      return;
    }
    object obj;
    if (value.get(obj) != simdjson::SUCCESS) return;
    object fn;
    std::string_view name;
    if (obj["function"].get(fn) == simdjson::SUCCESS) obj = fn;
    if (obj["name"].get(name) == simdjson::SUCCESS) {
      text(name);
      total_ += 4;
      estimated_ = true;
    }
  }

 private:
  void content_parts(array parts) {
    for (element part : parts) {
      std::string_view type;
      if (part["type"].get(type) != simdjson::SUCCESS) continue;
      std::string_view s;
      if (type == "text" && part["text"].get(s) == simdjson::SUCCESS) {
        text(s);
      } else if (type == "refusal" && part["refusal"].get(s) == simdjson::SUCCESS) {
        text(s);
      } else if (type == "image_url") {
        estimated_ = true;
        // {"url": ..., "detail": ...}, or a bare URL string as some clients send.
        element image;
        std::string_view url;
        std::string_view detail;
        if (part["image_url"].get(image) == simdjson::SUCCESS &&
            image.get(url) != simdjson::SUCCESS) {
          url = string_field(image, "url");
          detail = string_field(image, "detail");
        }
        total_ +=
            static_cast<long>(image_prompt_tokens(image_size_from_url(url), detail, model_).tokens);
      } else {
        estimated_ = true;  // audio, files: not counted
      }
    }
  }

  void function_call(object fn) {
    estimated_ = true;
    std::string_view s;
    if (fn["name"].get(s) == simdjson::SUCCESS) text(s);
    if (fn["arguments"].get(s) == simdjson::SUCCESS) text(s);
    total_ += 3;
  }

  const Encoding& encoding_;
  TextCountMemo& memo_ = TextCountMemo::for_this_thread();
  std::string_view model_;
  MessageRule rule_;
  long total_ = 0;
  bool estimated_ = false;
};

core::Result<const Encoding*> choose_encoding(const ChatCountOptions& options,
                                              std::string_view model) {
  if (options.encoding != nullptr) return options.encoding;
  if (model.empty()) {
    if (options.default_encoding != nullptr) return options.default_encoding;
    return core::Error{core::ErrorCode::kNotFound,
                       "the request names no model; choose a model or an encoding"};
  }
  if (options.default_encoding != nullptr) {
    return &encoding_for_model_or(model, *options.default_encoding);
  }
  return encoding_for_model(model);
}

}  // namespace

core::Result<ChatTokenCount> count_chat_prompt_tokens(std::string_view body,
                                                      const ChatCountOptions& options) {
  // One parser per thread: it keeps its buffers between calls.
  thread_local simdjson::dom::parser parser;
  element root;
  // An empty view may carry a null pointer, which simdjson hands to memcpy (undefined even for
  // zero bytes); "" gives the same EMPTY error without it.
  const char* data = body.empty() ? "" : body.data();
  if (const auto error = parser.parse(data, body.size()).get(root)) {
    return invalid(std::string("malformed JSON request body: ") + simdjson::error_message(error));
  }
  return count_chat_prompt_tokens(root, options);
}

core::Result<ChatTokenCount> count_chat_prompt_tokens(const element& body,
                                                      const ChatCountOptions& options) {
  object request;
  if (body.get(request) != simdjson::SUCCESS) {
    return invalid("the request body is not a JSON object");
  }
  // The request's fields in one pass over its keys (a look-up by name scans them each time); the
  // first of a repeated key counts, as a look-up by name would find it.
  std::optional<element> messages_field, model_field, tools, functions, tool_choice, function_call;
  for (auto [key, value] : request) {
    std::optional<element>* slot = nullptr;
    if (key == "messages") {
      slot = &messages_field;
    } else if (key == "model") {
      slot = &model_field;
    } else if (key == "tools") {
      slot = &tools;
    } else if (key == "functions") {
      slot = &functions;
    } else if (key == "tool_choice") {
      slot = &tool_choice;
    } else if (key == "function_call") {
      slot = &function_call;
    }
    if (slot != nullptr && !*slot) *slot = value;
  }
  array messages;
  if (!messages_field || messages_field->get(messages) != simdjson::SUCCESS) {
    return invalid("the request body has no \"messages\" array");
  }
  std::string_view model = options.model;
  if (std::string_view named;
      model.empty() && model_field && model_field->get(named) == simdjson::SUCCESS) {
    model = named;
  }
  auto encoding = choose_encoding(options, model);
  if (!encoding) return std::move(encoding).error();

  Counter counter(**encoding, model, message_rule(model));
  std::size_t index = 0;
  for (element m : messages) {
    if (auto r = counter.message(m, index++); !r) return std::move(r).error();
  }
  if (array definitions; (tools && tools->get(definitions) == simdjson::SUCCESS) ||
                         (functions && functions->get(definitions) == simdjson::SUCCESS)) {
    if (definitions.size() > 0) counter.definitions(definitions);
  }
  if (tool_choice) {
    counter.choice(*tool_choice);
  } else if (function_call) {
    counter.choice(*function_call);
  }
  return counter.result(**encoding);
}

ChatTokenCount count_plain_chat_prompt(const PlainChatPrompt& prompt, const Encoding& encoding,
                                       std::string_view model) {
  Counter counter(encoding, model, message_rule(model));
  for (std::size_t i = 0; i < prompt.messages; ++i) counter.frame_message();
  for (std::size_t i = 0; i < prompt.names; ++i) counter.frame_name();
  for (std::size_t i = 0; i < prompt.function_messages; ++i) counter.frame_function_role();
  for (const auto text : prompt.texts) counter.text(text);
  return counter.result(encoding);
}

}  // namespace sluice::tokenizer
