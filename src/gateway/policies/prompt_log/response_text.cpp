#include "gateway/policies/prompt_log/response_text.hpp"

#include <boost/json.hpp>

namespace sluice::gateway {

namespace {

void append(std::string& text, const boost::json::value* value) {
  if (!value) return;
  if (const auto* s = value->if_string()) text.append(s->data(), s->size());
}

bool is_embeddings(const boost::json::object& object) {
  const auto* data = object.if_contains("data");
  if (!data || !data->is_array()) return false;
  for (const auto& item : data->get_array()) {
    const auto* entry = item.if_object();
    if (!entry || !entry->contains("embedding")) return false;
  }
  return true;
}

}  // namespace

std::string response_text(std::string_view body) {
  boost::system::error_code ec;
  auto document = boost::json::parse(body, ec);
  const auto* object = ec ? nullptr : document.if_object();
  if (!object) return std::string(body);
  if (is_embeddings(*object)) return {};
  const auto* choices = object->if_contains("choices");
  if (!choices || !choices->is_array()) return std::string(body);
  std::string text;
  for (const auto& choice_value : choices->get_array()) {
    const auto* choice = choice_value.if_object();
    if (!choice) continue;
    const auto* message = choice->if_contains("message");
    if (message && message->is_object()) {
      const auto& m = message->get_object();
      append(text, m.if_contains("content"));
      append(text, m.if_contains("refusal"));
      if (const auto* calls = m.if_contains("tool_calls"); calls && calls->is_array()) {
        for (const auto& call : calls->get_array()) {
          const auto* function =
              call.is_object() ? call.get_object().if_contains("function") : nullptr;
          if (!function || !function->is_object()) continue;
          append(text, function->get_object().if_contains("name"));
          append(text, function->get_object().if_contains("arguments"));
        }
      }
    } else {
      append(text, choice->if_contains("text"));
    }
  }
  return text;
}

}  // namespace sluice::gateway
