#include "gateway/request_body_scan.hpp"

#include <array>
#include <optional>

#include "gateway/json_scan.hpp"

namespace sluice::gateway {

namespace {

// Which object or array a value belongs to (0: one nothing is read from). The last two only when
// the chat prompt is gathered.
enum Role : int { kTop = 1, kStreamOptions, kMessages, kMessage };

// The top-level keys read, in slot order; stream_options (2) is an object read for include_usage.
constexpr std::array<std::string_view, 5> kTopKeys = {"model", "stream", "stream_options",
                                                      "max_tokens", "max_completion_tokens"};

// Gathering the prompt: "messages" (its first occurrence), and the keys whose presence leaves the
// count to the document (tool and function definitions, and the choice of them, are estimated by
// rules the scan does not repeat), each at any occurrence.
constexpr int kMessagesSlot = 5;
constexpr int kDefinitionsSlot = 6;
constexpr std::array<std::string_view, 4> kDefinitionKeys = {"tools", "functions", "tool_choice",
                                                             "function_call"};

// A message's keys the count treats apart (tokenizer/chat_tokens.cpp, Counter::message); every
// other key is kOtherKey. Each occurrence counts, as the count iterates every field.
enum MessageSlot : int {
  kRoleKey,
  kNameKey,
  kContentKey,
  kToolCallsKey,
  kFunctionCallKey,
  kOtherKey
};

MessageSlot message_slot(std::string_view key) {
  if (key == "role") return kRoleKey;
  if (key == "name") return kNameKey;
  if (key == "content") return kContentKey;
  if (key == "tool_calls") return kToolCallsKey;
  if (key == "function_call") return kFunctionCallKey;
  return kOtherKey;
}

// The chat prompt as the scan goes: plain until something only the document can count is met.
struct PromptGathering {
  ScannedChatPrompt& prompt;
  bool messages_seen = false;
  // The message being read: whether its first "role" was read, and whether that was "function".
  bool role_seen = false;
  bool function_role = false;

  // A message's field, every occurrence.
  void field(int slot, const JsonScalar& item) {
    using Kind = JsonScalar::Kind;
    if (slot == kRoleKey && !role_seen) {
      role_seen = true;  // a role that is not a string is no role, as string_field() reads it
      // An escape stands for no letter: an escaped role is never "function".
      function_role = item.kind == Kind::kString && !item.escaped && item.text == "function";
    }
    if (item.kind == Kind::kString) {
      prompt.texts.push_back({item.text, item.escaped});
      if (slot == kNameKey) ++prompt.names;
      return;
    }
    // Content parts, tool calls and a function call are counted (or estimated) from the document;
    // any other value the count passes over, as it does.
    if ((item.kind == Kind::kArray && (slot == kContentKey || slot == kToolCallsKey)) ||
        (item.kind == Kind::kObject && slot == kFunctionCallKey)) {
      prompt.plain = false;
    }
  }

  void message_end(const JsonScalar& element) {
    if (element.kind != JsonScalar::Kind::kObject) {
      prompt.plain = false;  // the count refuses a message that is not an object
    } else {
      ++prompt.messages;
      if (function_role) ++prompt.function_messages;
    }
    role_seen = false;
    function_role = false;
  }
};

// Each key at its first occurrence, as simdjson's object[key] and at_pointer() find it; a value
// of the wrong type is left unset, as a failed get_string(), get_bool() or get_int64() leaves it.
struct RequestReader {
  std::optional<PromptGathering> gathering;  // set when the chat prompt is gathered
  std::array<bool, 6> seen{};                // kTopKeys' slots, then messages'
  bool include_usage_seen = false;
  std::optional<std::string_view> model;
  std::optional<bool> stream;
  std::optional<bool> include_usage;
  std::optional<std::int64_t> max_tokens;
  std::optional<std::int64_t> max_completion_tokens;

  int slot_of(int role, std::string_view key) const {
    if (role == kMessage) return message_slot(key);
    if (role == kStreamOptions) return key == "include_usage" && !include_usage_seen ? 0 : -1;
    for (std::size_t i = 0; i < kTopKeys.size(); ++i) {
      if (key == kTopKeys[i]) return seen[i] ? -1 : static_cast<int>(i);
    }
    if (gathering) {
      if (key == "messages") return seen[kMessagesSlot] ? -1 : kMessagesSlot;
      for (auto definitions : kDefinitionKeys) {
        if (key == definitions) return kDefinitionsSlot;
      }
    }
    return -1;
  }

  static int child_role(int role, int slot) {
    if (role == kTop && slot == 2) return kStreamOptions;
    if (role == kTop && slot == kMessagesSlot) return kMessages;
    return 0;
  }

  // Arrays: the messages' elements are messages.
  static int element_role(int role) { return role == kMessages ? kMessage : 0; }
  void element_end(int role, const JsonScalar& element) {
    if (role == kMessages && gathering) gathering->message_end(element);
  }
  // A message's key with an escape could be any key: its value is counted from the document.
  void escaped_key(int role) {
    if (role == kMessage && gathering) gathering->prompt.plain = false;
  }

  // False for a model's name with an escape: it would have to be unescaped.
  bool keep(int role, int slot, const JsonScalar& item) {
    if (role == kMessage) {
      gathering->field(slot, item);
      return true;
    }
    if (role == kTop && slot >= kMessagesSlot) {
      if (slot == kMessagesSlot) {
        seen[kMessagesSlot] = true;
        gathering->messages_seen = true;
        if (item.kind != JsonScalar::Kind::kArray) gathering->prompt.plain = false;
      } else {
        gathering->prompt.plain = false;  // tools, functions or a choice of them
      }
      return true;
    }
    const auto boolean =
        item.is_bool() ? std::optional(item.kind == JsonScalar::Kind::kTrue) : std::nullopt;
    const auto integer = item.is_integer() ? std::optional(item.integer) : std::nullopt;
    if (role == kStreamOptions) {
      include_usage_seen = true;
      include_usage = boolean;
      return true;
    }
    seen[slot] = true;
    switch (slot) {
      case 0:
        if (item.kind != JsonScalar::Kind::kString) return true;
        model = item.text;
        return !item.escaped;
      case 1:
        stream = boolean;
        return true;
      case 3:
        max_tokens = integer;
        return true;
      case 4:
        max_completion_tokens = integer;
        return true;
    }
    return true;
  }
};

}  // namespace

bool scan_request_body(std::string_view body, RequestBodyInfo& info, bool gather_chat_prompt) {
  RequestReader reader;
  ScannedChatPrompt prompt;
  if (gather_chat_prompt) {
    prompt.plain = true;
    reader.gathering.emplace(PromptGathering{prompt});
  }
  if (JsonScan(body, reader).run(kTop) != JsonVerdict::kValid) return false;
  if (gather_chat_prompt) {
    prompt.plain = prompt.plain && reader.gathering->messages_seen;
    if (prompt.plain) info.prompt = std::move(prompt);
  }
  if (reader.model) info.model = std::string(*reader.model);
  if (reader.stream) info.stream = *reader.stream;
  if (reader.include_usage) info.include_usage = *reader.include_usage;
  if (reader.max_tokens) {
    info.max_tokens = reader.max_tokens;
  } else if (reader.max_completion_tokens) {
    info.max_tokens = reader.max_completion_tokens;
  }
  info.parsed = true;
  info.document_source = nullptr;
  info.document_generation = 0;
  return true;
}

}  // namespace sluice::gateway
