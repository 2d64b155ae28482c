#include "gateway/policies/cache/answer_codec.hpp"

#include <map>

#include <boost/json.hpp>

namespace sluice::gateway::cache {

namespace json = boost::json;

namespace {

// Content pieces of a re-chunked stream are at most this long (cut on UTF-8 boundaries), close to
// what a model streams per event without costing an event per token.
constexpr std::size_t kPieceBytes = 24;

std::string_view string_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view();
}

std::int64_t int_of(const json::object& o, std::string_view key) {
  auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<std::int64_t>(v->get_uint64());
  return 0;
}

bool has_tool_calls(const json::object& message) {
  for (auto key : {"tool_calls", "function_call"}) {
    auto* v = message.if_contains(key);
    if (v && !v->is_null() && !(v->is_array() && v->get_array().empty())) return true;
  }
  return false;
}

std::optional<CachedAnswer> check(const json::value& value, bool allow_tool_calls,
                                  std::string& why_not) {
  const auto* root = value.if_object();
  if (!root) {
    why_not = "not a JSON object";
    return std::nullopt;
  }
  if (root->contains("error")) {
    why_not = "an error";
    return std::nullopt;
  }
  const auto* choices = root->if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) {
    why_not = "no choices";
    return std::nullopt;
  }
  for (const auto& item : choices->get_array()) {
    const auto* choice = item.if_object();
    if (!choice) {
      why_not = "a choice is not an object";
      return std::nullopt;
    }
    auto finish = string_of(*choice, "finish_reason");
    const auto* message = choice->if_contains("message");
    bool tools = message && message->is_object() && has_tool_calls(message->get_object());
    if (finish == "content_filter") {
      why_not = "a content-filter hit";
      return std::nullopt;
    }
    if ((tools || finish == "tool_calls" || finish == "function_call") && !allow_tool_calls) {
      why_not = "a tool call";
      return std::nullopt;
    }
    if (finish != "stop" && finish != "length" && finish != "tool_calls" &&
        finish != "function_call") {
      why_not = "finish_reason '" + std::string(finish) + "'";
      return std::nullopt;
    }
  }
  CachedAnswer answer;
  answer.body = json::serialize(value);
  answer.model = std::string(string_of(*root, "model"));
  if (const auto* usage = root->if_contains("usage"); usage && usage->is_object()) {
    answer.total_tokens = int_of(usage->get_object(), "total_tokens");
  }
  return answer;
}

// One choice of a stream, put back together.
struct StreamedChoice {
  std::string role = "assistant";
  std::string content;
  bool has_content = false;
  std::string refusal;
  std::map<std::int64_t, json::object> tool_calls;  // by the tool call's index
  json::value finish_reason;
};

void merge_tool_call(json::object& into, const json::object& piece) {
  for (const auto& [key, value] : piece) {
    if (key == "function" && value.is_object()) {
      auto& function = into["function"];
      if (!function.is_object()) function = json::object();
      for (const auto& [fkey, fvalue] : value.get_object()) {
        if (fkey == "arguments" && fvalue.is_string()) {
          auto& args = function.get_object()["arguments"];
          if (!args.is_string()) args = json::string();
          args.get_string().append(fvalue.get_string());
        } else {
          function.get_object()[fkey] = fvalue;
        }
      }
    } else if (key != "index") {
      into[key] = value;
    }
  }
}

void append_event(std::string& out, const json::object& chunk) {
  out += "data: ";
  out += json::serialize(chunk);
  out += "\n\n";
}

// Cuts `text` into pieces of at most kPieceBytes, never inside a UTF-8 sequence.
std::vector<std::string_view> pieces_of(std::string_view text) {
  std::vector<std::string_view> pieces;
  while (!text.empty()) {
    std::size_t n = std::min(kPieceBytes, text.size());
    while (n < text.size() && n > 0 && (static_cast<unsigned char>(text[n]) & 0xC0) == 0x80) --n;
    if (n == 0) n = std::min(kPieceBytes, text.size());  // not UTF-8: cut anyway
    pieces.push_back(text.substr(0, n));
    text.remove_prefix(n);
  }
  return pieces;
}

}  // namespace

std::optional<CachedAnswer> answer_from_body(std::string_view body, bool allow_tool_calls,
                                             std::string& why_not) {
  json::error_code ec;
  auto value = json::parse(body, ec);
  if (ec) {
    why_not = "not JSON";
    return std::nullopt;
  }
  return check(value, allow_tool_calls, why_not);
}

std::optional<CachedAnswer> answer_from_stream(const std::vector<std::string>& events,
                                               bool allow_tool_calls, std::string& why_not,
                                               const TokenUsage* fallback_usage) {
  json::object body;
  std::map<std::int64_t, StreamedChoice> choices;
  json::value usage;
  for (const auto& data : events) {
    json::error_code ec;
    auto value = json::parse(data, ec);
    if (ec || !value.is_object()) {
      why_not = "a chunk that is not a JSON object";
      return std::nullopt;
    }
    const auto& chunk = value.get_object();
    if (chunk.contains("error")) {
      why_not = "an error";
      return std::nullopt;
    }
    for (auto key : {"id", "model", "system_fingerprint"}) {
      if (!string_of(chunk, key).empty() && !body.contains(key)) body[key] = chunk.at(key);
    }
    // Azure's first chunk (prompt_filter_results) has an empty id and model and created 0.
    if (int_of(chunk, "created") != 0 && !body.contains("created"))
      body["created"] = chunk.at("created");
    if (auto* u = chunk.if_contains("usage"); u && u->is_object()) usage = *u;
    const auto* list = chunk.if_contains("choices");
    if (!list || !list->is_array()) continue;
    for (const auto& item : list->get_array()) {
      if (!item.is_object()) continue;
      const auto& c = item.get_object();
      auto& choice = choices[int_of(c, "index")];
      if (auto* finish = c.if_contains("finish_reason"); finish && !finish->is_null()) {
        choice.finish_reason = *finish;
      }
      const auto* delta = c.if_contains("delta");
      if (!delta || !delta->is_object()) continue;
      const auto& d = delta->get_object();
      if (!string_of(d, "role").empty()) choice.role = string_of(d, "role");
      if (auto* content = d.if_contains("content"); content && content->is_string()) {
        choice.content += content->get_string();
        choice.has_content = true;
      }
      choice.refusal += string_of(d, "refusal");
      if (auto* calls = d.if_contains("tool_calls"); calls && calls->is_array()) {
        for (const auto& call : calls->get_array()) {
          if (call.is_object()) {
            merge_tool_call(choice.tool_calls[int_of(call.get_object(), "index")],
                            call.get_object());
          }
        }
      }
    }
  }
  body["object"] = "chat.completion";
  json::array list;
  for (auto& [index, choice] : choices) {
    json::object message;
    message["role"] = choice.role;
    message["content"] = choice.has_content ? json::value(choice.content) : json::value(nullptr);
    if (!choice.refusal.empty()) message["refusal"] = choice.refusal;
    if (!choice.tool_calls.empty()) {
      json::array calls;
      for (auto& [call_index, call] : choice.tool_calls) calls.push_back(std::move(call));
      message["tool_calls"] = std::move(calls);
    }
    json::object c;
    c["index"] = index;
    c["message"] = std::move(message);
    c["logprobs"] = nullptr;
    c["finish_reason"] = choice.finish_reason;
    list.push_back(std::move(c));
  }
  body["choices"] = std::move(list);
  if (usage.is_null() && fallback_usage && fallback_usage->source != UsageSource::kNone) {
    usage = json::object{{"prompt_tokens", fallback_usage->prompt_tokens},
                         {"completion_tokens", fallback_usage->completion_tokens},
                         {"total_tokens", fallback_usage->total_tokens}};
  }
  if (!usage.is_null()) body["usage"] = usage;
  return check(json::value(std::move(body)), allow_tool_calls, why_not);
}

std::string first_content(const CachedAnswer& answer) {
  json::error_code ec;
  auto value = json::parse(answer.body, ec);
  if (ec || !value.is_object()) return "";
  const auto* choices = value.get_object().if_contains("choices");
  if (!choices || !choices->is_array() || choices->get_array().empty()) return "";
  const auto* choice = choices->get_array()[0].if_object();
  const auto* message = choice ? choice->if_contains("message") : nullptr;
  return message && message->is_object() ? std::string(string_of(message->get_object(), "content"))
                                         : "";
}

std::string render_stream(const CachedAnswer& answer, bool include_usage) {
  json::error_code ec;
  auto value = json::parse(answer.body, ec);
  std::string out;
  if (ec || !value.is_object()) return "data: [DONE]\n\n";
  const auto& body = value.get_object();
  json::object head;
  for (auto key : {"id", "created", "model", "system_fingerprint"}) {
    if (auto* v = body.if_contains(key)) head[key] = *v;
  }
  head["object"] = "chat.completion.chunk";
  auto chunk = [&](json::object choice) {
    json::object c = head;
    json::array list;
    list.push_back(std::move(choice));
    c["choices"] = std::move(list);
    append_event(out, c);
  };
  auto choice_with = [](const json::value& index, json::object delta, json::value finish) {
    json::object c;
    c["index"] = index;
    c["delta"] = std::move(delta);
    c["logprobs"] = nullptr;
    c["finish_reason"] = std::move(finish);
    return c;
  };
  const auto* choices = body.if_contains("choices");
  if (choices && choices->is_array()) {
    for (const auto& item : choices->get_array()) {
      if (!item.is_object()) continue;
      const auto& c = item.get_object();
      json::value index = c.contains("index") ? c.at("index") : json::value(0);
      const json::object* message = nullptr;
      if (auto* m = c.if_contains("message"); m && m->is_object()) message = &m->get_object();
      json::object first;
      first["role"] = message && !string_of(*message, "role").empty() ? string_of(*message, "role")
                                                                      : "assistant";
      first["content"] = "";
      chunk(choice_with(index, std::move(first), nullptr));
      if (message) {
        for (auto piece : pieces_of(string_of(*message, "content"))) {
          json::object delta;
          delta["content"] = piece;
          chunk(choice_with(index, std::move(delta), nullptr));
        }
        if (auto* calls = message->if_contains("tool_calls"); calls && calls->is_array()) {
          json::array indexed;
          std::int64_t i = 0;
          for (const auto& call : calls->get_array()) {
            if (!call.is_object()) continue;
            json::object with_index = call.get_object();
            with_index["index"] = i++;
            indexed.push_back(std::move(with_index));
          }
          json::object delta;
          delta["tool_calls"] = std::move(indexed);
          chunk(choice_with(index, std::move(delta), nullptr));
        }
      }
      json::value finish =
          c.contains("finish_reason") ? c.at("finish_reason") : json::value("stop");
      chunk(choice_with(index, json::object(), std::move(finish)));
    }
  }
  if (include_usage) {
    if (auto* usage = body.if_contains("usage"); usage && usage->is_object()) {
      json::object c = head;
      c["choices"] = json::array();
      c["usage"] = *usage;
      append_event(out, c);
    }
  }
  out += "data: [DONE]\n\n";
  return out;
}

}  // namespace sluice::gateway::cache
